#pragma once
// Finding an image the way users name it, and letting go of one.

#include <optional>
#include <string_view>

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

// By id ("sha256:<hex>", hex, unique hex prefix) or by reference
// ("busybox" finds docker.io/library/busybox:latest).
std::optional<records::image> find_image(const context& ctx, std::string_view text);

// The store key of an image record: its id's hex.
std::string image_key(const std::string& id);

// Deletes the records of `gone` and the layers no remaining image uses.
reactor::task<result<void>> forget_images(context& ctx, std::vector<records::image> gone);

// At start: removes the layers no image and no container uses (a pull
// killed after some of its layers were committed, before its image was
// recorded).
reactor::task<void> sweep_unused_layers(context& ctx);

}  // namespace ringcri::cri
