namespace Sim.Vmm.Genode;

public sealed partial class VcpuState
{
    /// <summary>Genode <c>Vcpu_state::Register&lt;T&gt;</c>: a value and its charged flag, discharged by default.</summary>
    public sealed class Register<T> where T : struct
    {
        public bool Charged { get; private set; }

        public T Value { get; private set; }

        /// <summary>Sets the value and charges the register.</summary>
        public void Charge(T value)
        {
            Value = value;
            Charged = true;
        }

        /// <summary>Charges without changing the value (Genode <c>\noapi</c> <c>set_charged()</c>, for backends).</summary>
        public void SetCharged() => Charged = true;

        /// <summary>Sets and charges only if not yet charged (Genode <c>\noapi</c> <c>update(v)</c>, for backends).</summary>
        public void Update(T value)
        {
            if (Charged)
                return;
            Value = value;
            Charged = true;
        }

        internal void Discharge() => Charged = false;
    }
}
