#include "policy/arch.h"

namespace nestbox::policy {

const ArchInfo* find_arch(std::string_view name) {
  for (const ArchInfo& a : kArches)
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace nestbox::policy
