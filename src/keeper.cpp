// ringcri-keeper: the keeper as its own small executable. The daemon starts
// it (from beside its own binary) when none runs; `ringcri keeper` is the
// same thing inside the daemon's binary. Small matters here: the keeper
// lives as long as any container, and without gRPC, protobuf and curl
// linked in its resident memory is a fraction of the daemon's.

#include "exec/keeper/client.hpp"

int main(int argc, char** argv) { return ringcri::exec::keeper::keeper_main(argc, argv); }
