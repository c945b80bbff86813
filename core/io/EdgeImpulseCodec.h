#pragma once
// Edge Impulse data acquisition format, JSON and CBOR encodings.
//
//     {"protected": {"ver": "v1", "alg": "HS256" | "none", "iat": <s since epoch>},
//      "signature": "<64 hex>",
//      "payload": {"device_name": .., "device_type": .., "interval_ms": ..,
//                  "sensors": [{"name": .., "units": ..}], "values": [[..], ..]}}
//
// HS256 signature (as Edge Impulse's own samples compute it): HMAC-SHA256 with the
// project's HMAC key over the encoded message in which the signature field holds 64 '0'
// characters, written as lowercase hex. To verify, the reader puts the placeholder back
// into the file's own bytes (same length, so nothing else moves) and recomputes the HMAC;
// this works for any encoder's key order and spacing.
//
// Import: one Sample, float32 [frames, sensors] (a flat `values` list means one sensor),
// sampleRateHz = 1000 / interval_ms, device = device_type, channels/units from sensors.
// Units "N/A" (what the exporter writes for unknown units) read back as no unit.
// When options.hmacKey is set, the file must be HS256-signed with that key.
// Label: options.label, else the file-name prefix (`idle.1.json` -> "idle").

#include "io/ImportResult.h"

namespace tinyml::io {

enum class EdgeImpulseEncoding { Json, Cbor };

/// The size limit of an Edge Impulse file when options.maxEdgeImpulseBytes is 0:
/// $TINYML_EI_MAX_MB mebibytes when set to a positive number, else 64 MiB. Qt's JSON and
/// CBOR trees peak at 9-10x the file size (a 121 MB JSON took 1.14 GB), so larger files are
/// refused before parsing, naming their size, the limit and how to raise it.
qint64 defaultEdgeImpulseSizeLimit();

FileImportResult parseEdgeImpulseJson(const QByteArray &bytes, const QString &fileName,
                                      const ImportOptions &options);
FileImportResult parseEdgeImpulseCbor(const QByteArray &bytes, const QString &fileName,
                                      const ImportOptions &options);

/// Encodes a time-series sample (float32 [frames, channels] with a sample rate). Signs with
/// HS256 when hmacKey is not empty, else writes alg "none" and a signature of 64 zeros.
/// JSON numbers are the float32 values written as the shortest double text, so every
/// JSON reader gets back the exact float (negative zero is written as -1e-46, which rounds
/// to float32 -0.0, because JSON readers commonly read "-0" as the integer 0).
/// Returns an empty array and sets *error on failure.
QByteArray encodeEdgeImpulse(const Sample &sample, EdgeImpulseEncoding encoding,
                             const QByteArray &hmacKey, QString *error);

/// Hex HMAC-SHA256 of `message` (the encoded file with the placeholder signature).
QByteArray edgeImpulseSignature(const QByteArray &message, const QByteArray &hmacKey);

} // namespace tinyml::io
