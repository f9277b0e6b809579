#include "common/merkle/node_source.h"

namespace rustiq::merkle {

std::vector<NodeId> FrontierIds(uint64_t size) {
  std::vector<NodeId> ids;
  uint64_t begin = 0;
  for (int level = static_cast<int>(kMaxLevel); level >= 0; --level) {
    uint64_t width = uint64_t{1} << level;
    if ((size & width) != 0) {
      ids.push_back(NodeId{static_cast<uint32_t>(level), begin >> level});
      begin += width;
    }
  }
  return ids;
}

}  // namespace rustiq::merkle
