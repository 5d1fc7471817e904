#pragma once
// Layer dirs for tests: a temp dir with one subdir per layer (top first),
// and helpers to put files, symlinks and dirs in them. Removed at the end.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ringcri::test {

class layer_dirs {
 public:
  explicit layer_dirs(int count) {
    char tmpl[] = "/tmp/ringcri-layers-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    for (int i = 0; i < count; ++i) {
      layers_.push_back(root_ + "/l" + std::to_string(i));
      std::filesystem::create_directories(layers_.back());
    }
  }
  ~layer_dirs() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  layer_dirs(const layer_dirs&) = delete;
  layer_dirs& operator=(const layer_dirs&) = delete;

  const std::vector<std::string>& layers() const { return layers_; }
  std::string path(int layer, const std::string& rel) const { return layers_.at(layer) + rel; }

  void file(int layer, const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(path(layer, rel)).parent_path());
    std::ofstream(path(layer, rel)) << content;
  }
  void dir(int layer, const std::string& rel) const {
    std::filesystem::create_directories(path(layer, rel));
  }
  void symlink(int layer, const std::string& rel, const std::string& target) const {
    std::filesystem::create_directories(std::filesystem::path(path(layer, rel)).parent_path());
    std::filesystem::create_symlink(target, path(layer, rel));
  }

 private:
  std::string root_;
  std::vector<std::string> layers_;
};

}  // namespace ringcri::test
