namespace Sim.Vmm.Genode;

public sealed partial class VmState
{
    /// <summary>Genode 19.05 <c>Vm_state::Register&lt;T&gt;</c>: a value and its valid flag, invalid by default.</summary>
    public sealed class Register<T> where T : struct
    {
        public bool Valid { get; private set; }

        public T Value { get; private set; }

        /// <summary>Sets the value and marks it valid (Genode's <c>value(v)</c>).</summary>
        public void SetValue(T value)
        {
            Value = value;
            Valid = true;
        }

        /// <summary>Genode's <c>invalid()</c>: the value stays.</summary>
        public void Invalidate() => Valid = false;

        /// <summary>Genode's <c>operator=</c>: takes the other's valid flag, and its value only if that is valid.</summary>
        public void Assign(Register<T> other)
        {
            Valid = other.Valid;
            if (Valid)
                Value = other.Value;
        }
    }
}
