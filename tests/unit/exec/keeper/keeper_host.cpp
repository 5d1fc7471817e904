// A test-only binary that runs the keeper: the tests pass it to
// client::connect as the binary to start.

#include "exec/keeper/client.hpp"

int main(int argc, char** argv) { return ringcri::exec::keeper::keeper_main(argc, argv); }
