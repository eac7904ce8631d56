// Where `nestbox compose --out DIR` puts each output (docs/composer.md): the
// one statement of that layout. compose's writers write through it and
// `sign --composed` (signer/sign_composed.h) and the tests read through it,
// so a renamed output cannot leave a reader looking for the old name.
//
//   DIR/NAME.sqfs                  squashfs strategy: the container's image
//   DIR/NAME.layer.sqfs            overlay strategy: the container's layer
//   DIR/base/BASE.sqfs             overlay strategy: a base shared by layers
//   DIR/NAME/                      tree strategy: the rootfs directory
//   DIR/runtime/NAME/              runtime forms (policy/runtime_forms.h):
//        policy.bin, config.json, lxc.conf, and compose's records
//        (composer/staging_root.h: hardlink-dir, packing)
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "composer/staging_root.h"
#include "policy/runtime_forms.h"

namespace nestbox::composer {

class OutputLayout {
 public:
  explicit OutputLayout(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string squashfs(std::string_view name) const { return join(name) + ".sqfs"; }
  std::string layer(std::string_view name) const { return join(name) + ".layer.sqfs"; }
  std::string base_dir() const { return dir_ + "/base"; }
  std::string base(std::string_view base) const { return base_dir() + "/" + std::string(base) + ".sqfs"; }
  std::string tree(std::string_view name) const { return join(name); }
  std::string runtime_dir(std::string_view name) const { return dir_ + "/runtime/" + std::string(name); }
  std::string policy(std::string_view name) const { return runtime_dir(name) + "/" + policy::kPolicyFileName; }
  std::string hardlink_dir_record(std::string_view name) const {
    return runtime_dir(name) + "/" + kHardlinkDirRecord;
  }
  std::string packing_record(std::string_view name) const { return runtime_dir(name) + "/" + kPackingRecord; }

 private:
  std::string join(std::string_view name) const { return dir_ + "/" + std::string(name); }
  std::string dir_;
};

}  // namespace nestbox::composer
