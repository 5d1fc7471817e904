#pragma once
// How a stored image is shown through the CRI.

#include <string>

#include "api.pb.h"
#include "records.pb.h"

namespace ringcri::cri {

::runtime::v1::Image image_of(const records::image& img);
// The verbose "info" of ImageStatus: the image config as pulled, with the
// id, names and layers.
std::string image_info(const records::image& img);

}  // namespace ringcri::cri
