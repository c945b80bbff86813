#pragma once
// Constants of the model package format, shared by ModelPackageWriter and
// ModelPackageReader. The normative description is deploy/MODEL_PACKAGE.md; the device-side
// C reader mirrors these values. Everything here is persisted: append-only.

#include <cstdint>

namespace tinyml::deploy::package {

constexpr char kMagic[4] = {'T', 'M', 'P', 'K'};
constexpr uint16_t kFormatVersion = 1;          ///< a model alone
constexpr uint16_t kFormatVersionImpulse = 2;   ///< model + impulse section (MODEL_PACKAGE.md "Version 2")
constexpr uint16_t kMaxFormatVersion = 2;       ///< the newest version the host reads
constexpr uint32_t kHeaderSize = 64;
constexpr uint32_t kTensorRecordSize = 48;
constexpr uint32_t kOpRecordHeaderSize = 8;
constexpr uint32_t kMaxRank = 4;
constexpr uint32_t kDataSectionAlignment = 16;   ///< of the data section start in the package
constexpr uint32_t kDataAlignment = 4;           ///< of every blob inside the data section
constexpr uint32_t kMaxLabelBytes = 255;
constexpr uint32_t kMaxArenaAlignment = 16;      ///< arena_size <= activations' end rounded to it

/// Header field offsets (little-endian).
enum HeaderField : uint32_t {
    kMagicAt = 0,              // char[4]
    kVersionAt = 4,            // u16
    kHeaderSizeAt = 6,         // u16
    kTotalSizeAt = 8,          // u32
    kCrcAt = 12,               // u32, CRC-32 (IEEE) of bytes [headerSize, totalSize)
    kFlagsAt = 16,             // u32, 0 in version 1, kFlagHasImpulse in version 2
    kArenaSizeAt = 20,         // u32
    kTensorTableOffsetAt = 24, // u32
    kTensorCountAt = 28,       // u16
    kOpCountAt = 30,           // u16
    kOpTableOffsetAt = 32,     // u32
    kOpTableSizeAt = 36,       // u32
    kLabelsOffsetAt = 40,      // u32
    kLabelsSizeAt = 44,        // u32
    kDataOffsetAt = 48,        // u32
    kDataSizeAt = 52,          // u32
    kInputTensorAt = 56,       // u16
    kOutputTensorAt = 58,      // u16
    kLabelCountAt = 60,        // u16
    kReservedAt = 62,          // u16, 0
};

/// Header flags.
constexpr uint32_t kFlagHasImpulse = 1;   ///< bit 0: an impulse section follows the data section

/// Tensor record flags.
constexpr uint8_t kTensorConstant = 1;

/// Number of int32 parameters after the tensor indices of an op record, by op code
/// (model::OpType values); -1: the op cannot appear in a package. Concat: 1 + 4 * inputs.
constexpr int kOpParamCount[] = {
    13,  // 0 Conv2D
    13,  // 1 DepthwiseConv2D
    9,   // 2 FullyConnected
    9,   // 3 MaxPool2D
    9,   // 4 AvgPool2D
    9,   // 5 GlobalAvgPool
    12,  // 6 Add
    2,   // 7 Relu
    2,   // 8 Relu6
    0,   // 9 Reshape
    2,   // 10 Softmax
    -1,  // 11 BatchNorm: float only, folded by the quantizer
    -2,  // 12 Concat: variable, see above
    2,   // 13 Clip
    3,   // 14 KMeansScore: out_zp, multiplier, shift (tm_nn_score_params_t)
    3,   // 15 GmmScore: as KMeansScore
    3,   // 16 SquaredError: as KMeansScore
};
constexpr int kOpCodeCount = int(sizeof(kOpParamCount) / sizeof(kOpParamCount[0]));

// --- Version 2: the impulse section (after the data section) ------------------------------------

constexpr char kImpulseMagic[4] = {'T', 'M', 'I', 'P'};
constexpr uint16_t kImpulseFormatVersion = 1;
constexpr uint16_t kImpulseFormatVersionAnomaly = 2;  ///< + an anomaly model (MODEL_PACKAGE.md "Impulse section, version 2")
constexpr uint32_t kImpulseAnomalyNormPresent = 1;    ///< anomaly_flags bit 0
constexpr uint32_t kImpulseAnomalyAlignment = 16;     ///< of the nested package, from the outer package start
constexpr uint32_t kImpulseFixedSize = 32;        ///< bytes before dsp_params
constexpr uint32_t kImpulseMaxChannels = 3;
constexpr uint32_t kImpulseMaxClasses = 32;
constexpr uint32_t kImpulseMaxAverage = 32;
constexpr uint32_t kImpulseNormPresent = 1;       ///< norm_flags bit 0
constexpr uint8_t kImpulseClassBackground = 1;    ///< class_flags bit 0

/// Impulse section field offsets (little-endian), relative to the section start.
enum ImpulseField : uint32_t {
    kImpMagicAt = 0,           // char[4] "TMIP"
    kImpSectionSizeAt = 4,     // u32
    kImpVersionAt = 8,         // u16
    kImpSensorKindAt = 10,     // u8
    kImpChannelsAt = 11,       // u8
    kImpSampleRateAt = 12,     // u32
    kImpWindowAt = 16,         // u32
    kImpStrideAt = 20,         // u32
    kImpRawScaleAt = 24,       // f32
    kImpDspBlockAt = 28,       // u8 features::BlockKind
    kImpReservedAt = 29,       // u8, 0
    kImpDspParamsSizeAt = 30,  // u16
    kImpDspParamsAt = 32,      // dsp_params_size bytes, then feature_count, norm_flags, ...
};

/// dsp_params bytes of the fixed-size blocks (spectral: 12 + 4 * n_edges).
constexpr uint32_t kDspRawParamsSize = 12;
constexpr uint32_t kDspSpectralParamsBaseSize = 12;
constexpr uint32_t kDspMfeParamsSize = 28;
constexpr uint32_t kDspMfccParamsSize = 36;

} // namespace tinyml::deploy::package
