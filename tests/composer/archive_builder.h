// Writes test archives with libarchive: tar (optionally compressed), .deb
// (ar with data.tar.xz) and .ipk (tar.gz holding data.tar.gz), with any
// member names, including hostile ones.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>
#include <vector>

namespace nestbox::composer::testing {

struct Member {
  std::string name;
  mode_t type = AE_IFREG;
  unsigned mode = 0644;
  std::string data;      // regular files
  std::string link;      // symlink target
  std::string hardlink;  // hardlink target (type ignored)
  int64_t uid = 0, gid = 0;  // pax: wider than 32 bits
  long mtime = 1700000000;
  unsigned rmajor = 0, rminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// format: "tar", "tar.gz", "tar.xz", "tar.zst", "ar".
inline std::string build_archive(const std::vector<Member>& members, const std::string& format) {
  archive* a = archive_write_new();
  if (format == "ar") {
    archive_write_set_format_ar_svr4(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (format == "tar.gz") archive_write_add_filter_gzip(a);
    if (format == "tar.xz") archive_write_add_filter_xz(a);
    if (format == "tar.zst") archive_write_add_filter_zstd(a);
  }
  static thread_local std::string* out_ptr;
  std::string out;
  out_ptr = &out;
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, nullptr, nullptr,
      [](archive*, void*, const void* buf, size_t n) -> la_ssize_t {
        out_ptr->append(static_cast<const char*>(buf), n);
        return n;
      },
      nullptr);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_uid(e, m.uid);
    archive_entry_set_gid(e, m.gid);
    archive_entry_set_mtime(e, m.mtime, 0);
    for (const auto& [k, v] : m.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    if (!m.hardlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, m.mode);
      archive_entry_set_hardlink(e, m.hardlink.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, m.type);
      archive_entry_set_perm(e, m.mode);
      if (m.type == AE_IFLNK) archive_entry_set_symlink(e, m.link.c_str());
      if (m.type == AE_IFCHR || m.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(e, m.rmajor);
        archive_entry_set_rdevminor(e, m.rminor);
      }
      archive_entry_set_size(e, m.type == AE_IFREG ? m.data.size() : 0);
    }
    archive_write_header(a, e);
    if (m.type == AE_IFREG && m.hardlink.empty() && !m.data.empty())
      archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string build_deb(const std::vector<Member>& data_members) {
  return build_archive({{.name = "debian-binary", .data = "2.0\n"},
                        {.name = "control.tar.xz",
                         .data = build_archive({{.name = "./control", .data = "Package: t\n"}},
                                               "tar.xz")},
                        {.name = "data.tar.xz", .data = build_archive(data_members, "tar.xz")}},
                       "ar");
}

inline std::string build_ipk(const std::vector<Member>& data_members) {
  return build_archive({{.name = "./debian-binary", .data = "2.0\n"},
                        {.name = "./control.tar.gz",
                         .data = build_archive({{.name = "./control", .data = "Package: t\n"}},
                                               "tar.gz")},
                        {.name = "./data.tar.gz", .data = build_archive(data_members, "tar.gz")}},
                       "tar.gz");
}

}  // namespace nestbox::composer::testing
