// libFuzzer target: archive ingestion (tar in any compression, .ipk, .deb)
// must never crash, hang or write outside its scratch directory, whatever
// the bytes. Seed corpus: corpus/archive/.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "composer/source_tree.h"
#include "util/temp_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Removed at exit (a function-local static's destructor).
  static const nestbox::TempDir owner = [] {
    auto made = nestbox::TempDir::create("/tmp/nestbox-fuzz-archive-");
    if (!made.ok()) std::abort();
    return std::move(*made);
  }();
  const std::string& base = owner.path();
  std::string input = base + "/input";
  std::string scratch = base + "/scratch";
  std::filesystem::remove_all(scratch);
  std::filesystem::create_directories(scratch);
  std::ofstream(input, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), size);
  using nestbox::manifests::SourceKind;
  for (SourceKind k : {SourceKind::kTar, SourceKind::kDeb}) {
    nestbox::composer::SourceTree tree(scratch);
    nestbox::composer::IngestOptions opts;
    opts.trusted = false;
    opts.max_file_size = 1 << 20;
    (void)tree.add_archive(input, k, opts);
    (void)tree.view();
  }
  // Nothing but numbered blobs may appear in the scratch directory.
  for (const auto& e : std::filesystem::directory_iterator(scratch))
    if (e.path().filename().string().rfind("blob-", 0) != 0 || !e.is_regular_file()) abort();
  return 0;
}
