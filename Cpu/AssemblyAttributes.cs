using System.Runtime.CompilerServices;

// The interpreter's large switch methods have many locals; zeroing them in every prologue costs measurable time.
[module: SkipLocalsInit]
