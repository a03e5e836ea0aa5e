using Iced.Intel;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>
    /// AVX2's own operations by Iced encoding (SDM vol. 1, 14.7; vol. 2): the permutes, inserts and extracts, blends,
    /// broadcasts, variable shifts, masked moves and gathers; the integer forms of AVX's VPERM2F128, VINSERTF128,
    /// VEXTRACTF128, VBROADCASTF128 and VMASKMOVPS/PD share their handlers. The 256-bit forms of the SSE2 integer
    /// instructions are in <see cref="AvxOperations"/>.
    /// </summary>
    private static SimdOperation[] Avx2Operations() =>
    [
        new(Code.VEX_Vpermd_ymm_ymm_ymmm256, Handler.Avx, &VexPermuteDwords),
        new(Code.VEX_Vpermps_ymm_ymm_ymmm256, Handler.Avx, &VexPermuteDwords),
        new(Code.VEX_Vpermq_ymm_ymmm256_imm8, Handler.Avx, &VexPermuteQwordsImmediate),
        new(Code.VEX_Vpermpd_ymm_ymmm256_imm8, Handler.Avx, &VexPermuteQwordsImmediate),
        new(Code.VEX_Vperm2i128_ymm_ymm_ymmm256_imm8, Handler.Avx, &VexPermute128),
        new(Code.VEX_Vinserti128_ymm_ymm_xmmm128_imm8, Handler.Avx, &VexInsert128),
        new(Code.VEX_Vextracti128_xmmm128_ymm_imm8, Handler.Avx, &VexExtract128),
        new(Code.VEX_Vpblendd_xmm_xmm_xmmm128_imm8, Handler.Avx, &VexBlendDwords),
        new(Code.VEX_Vpblendd_ymm_ymm_ymmm256_imm8, Handler.Avx, &VexBlendDwords),
        new(Code.VEX_Vpbroadcastb_xmm_xmmm8, Handler.Avx, &VexBroadcastByte),
        new(Code.VEX_Vpbroadcastb_ymm_xmmm8, Handler.Avx, &VexBroadcastByte),
        new(Code.VEX_Vpbroadcastw_xmm_xmmm16, Handler.Avx, &VexBroadcastWord),
        new(Code.VEX_Vpbroadcastw_ymm_xmmm16, Handler.Avx, &VexBroadcastWord),
        new(Code.VEX_Vpbroadcastd_xmm_xmmm32, Handler.Avx, &VexBroadcastDword),
        new(Code.VEX_Vpbroadcastd_ymm_xmmm32, Handler.Avx, &VexBroadcastDword),
        new(Code.VEX_Vpbroadcastq_xmm_xmmm64, Handler.Avx, &VexBroadcastQword),
        new(Code.VEX_Vpbroadcastq_ymm_xmmm64, Handler.Avx, &VexBroadcastQword),
        new(Code.VEX_Vbroadcastss_xmm_xmm, Handler.Avx, &VexBroadcastSingle),
        new(Code.VEX_Vbroadcastss_ymm_xmm, Handler.Avx, &VexBroadcastSingle),
        new(Code.VEX_Vbroadcastsd_ymm_xmm, Handler.Avx, &VexBroadcastDouble),
        new(Code.VEX_Vbroadcasti128_ymm_m128, Handler.Avx, &VexBroadcast128),
        new(Code.VEX_Vpsllvd_xmm_xmm_xmmm128, Handler.Avx, &VexInteger<ShiftLeftVariableDwords>),
        new(Code.VEX_Vpsllvd_ymm_ymm_ymmm256, Handler.Avx, &VexInteger<ShiftLeftVariableDwords>),
        new(Code.VEX_Vpsllvq_xmm_xmm_xmmm128, Handler.Avx, &VexInteger<ShiftLeftVariableQwords>),
        new(Code.VEX_Vpsllvq_ymm_ymm_ymmm256, Handler.Avx, &VexInteger<ShiftLeftVariableQwords>),
        new(Code.VEX_Vpsrlvd_xmm_xmm_xmmm128, Handler.Avx, &VexInteger<ShiftRightVariableDwords>),
        new(Code.VEX_Vpsrlvd_ymm_ymm_ymmm256, Handler.Avx, &VexInteger<ShiftRightVariableDwords>),
        new(Code.VEX_Vpsrlvq_xmm_xmm_xmmm128, Handler.Avx, &VexInteger<ShiftRightVariableQwords>),
        new(Code.VEX_Vpsrlvq_ymm_ymm_ymmm256, Handler.Avx, &VexInteger<ShiftRightVariableQwords>),
        new(Code.VEX_Vpsravd_xmm_xmm_xmmm128, Handler.Avx, &VexInteger<ShiftRightArithmeticVariableDwords>),
        new(Code.VEX_Vpsravd_ymm_ymm_ymmm256, Handler.Avx, &VexInteger<ShiftRightArithmeticVariableDwords>),
        new(Code.VEX_Vpmaskmovd_xmm_xmm_m128, Handler.Avx, &VexMaskedLoadSingle),
        new(Code.VEX_Vpmaskmovd_ymm_ymm_m256, Handler.Avx, &VexMaskedLoadSingle),
        new(Code.VEX_Vpmaskmovq_xmm_xmm_m128, Handler.Avx, &VexMaskedLoadDouble),
        new(Code.VEX_Vpmaskmovq_ymm_ymm_m256, Handler.Avx, &VexMaskedLoadDouble),
        new(Code.VEX_Vpmaskmovd_m128_xmm_xmm, Handler.Avx, &VexMaskedStoreSingle),
        new(Code.VEX_Vpmaskmovd_m256_ymm_ymm, Handler.Avx, &VexMaskedStoreSingle),
        new(Code.VEX_Vpmaskmovq_m128_xmm_xmm, Handler.Avx, &VexMaskedStoreDouble),
        new(Code.VEX_Vpmaskmovq_m256_ymm_ymm, Handler.Avx, &VexMaskedStoreDouble),
        new(Code.VEX_Vgatherdps_xmm_vm32x_xmm, Handler.Avx, &VexGatherDwordIndexDwords),
        new(Code.VEX_Vgatherdps_ymm_vm32y_ymm, Handler.Avx, &VexGatherDwordIndexDwords),
        new(Code.VEX_Vpgatherdd_xmm_vm32x_xmm, Handler.Avx, &VexGatherDwordIndexDwords),
        new(Code.VEX_Vpgatherdd_ymm_vm32y_ymm, Handler.Avx, &VexGatherDwordIndexDwords),
        new(Code.VEX_Vgatherdpd_xmm_vm32x_xmm, Handler.Avx, &VexGatherDwordIndexQwords),
        new(Code.VEX_Vgatherdpd_ymm_vm32x_ymm, Handler.Avx, &VexGatherDwordIndexQwords),
        new(Code.VEX_Vpgatherdq_xmm_vm32x_xmm, Handler.Avx, &VexGatherDwordIndexQwords),
        new(Code.VEX_Vpgatherdq_ymm_vm32x_ymm, Handler.Avx, &VexGatherDwordIndexQwords),
        new(Code.VEX_Vgatherqps_xmm_vm64x_xmm, Handler.Avx, &VexGatherQwordIndexDwords),
        new(Code.VEX_Vgatherqps_xmm_vm64y_xmm, Handler.Avx, &VexGatherQwordIndexDwords),
        new(Code.VEX_Vpgatherqd_xmm_vm64x_xmm, Handler.Avx, &VexGatherQwordIndexDwords),
        new(Code.VEX_Vpgatherqd_xmm_vm64y_xmm, Handler.Avx, &VexGatherQwordIndexDwords),
        new(Code.VEX_Vgatherqpd_xmm_vm64x_xmm, Handler.Avx, &VexGatherQwordIndexQwords),
        new(Code.VEX_Vgatherqpd_ymm_vm64y_ymm, Handler.Avx, &VexGatherQwordIndexQwords),
        new(Code.VEX_Vpgatherqq_xmm_vm64x_xmm, Handler.Avx, &VexGatherQwordIndexQwords),
        new(Code.VEX_Vpgatherqq_ymm_vm64y_ymm, Handler.Avx, &VexGatherQwordIndexQwords),
    ];
}
