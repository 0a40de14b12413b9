// When trace and candidate datasets are deflated (every dataset is chunked and checksummed).
#pragma once

namespace gdn {

// Auto: shuffle + deflate a large dataset when its first chunk shrinks by at least a fifth
// (bf16 or fp16 values stored as float32, integers); random float32/float64 mantissas
// (initial fp32 states, float64 golden outputs) shrink by about a tenth at 30 MB/s, which
// would dominate the time to write a trace, so they are stored uncompressed.
// Always: deflate every large dataset. Never: no dataset.
enum class Compression { Auto, Always, Never };

}  // namespace gdn
