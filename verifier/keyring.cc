#include "verifier/keyring.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <memory>

#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::verifier {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

bool is_key_id(const std::string& s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The key file names in the directory `dir_fd` (which fdopendir takes over).
Result<std::vector<std::string>> pem_files(const std::string& dir, int dir_fd) {
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(dir_fd));
  if (!d) {
    ::close(dir_fd);
    return sys_error("open " + dir);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    bool key_file = n.size() > 4 && (n.compare(n.size() - 4, 4, ".pem") == 0 || n.compare(n.size() - 4, 4, ".pub") == 0);
    if (key_file) names.push_back(n);
  }
  if (errno != 0) return sys_error("read " + dir);
  std::sort(names.begin(), names.end());
  return names;
}

// `name` beneath `dir_fd` (not followed if a symlink) is root's and only root
// may write it.
Status only_root_writes(int dir_fd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("stat " + shown);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return ok_status();  // refused by type when read
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failure(shown + ": owned by uid " + std::to_string(st.st_uid) + ", mode " + mode +
                   "; the device's keys must be root's and writable by root only");
  }
  return ok_status();
}

}  // namespace

Result<std::vector<std::string>> read_revocation_list(const std::string& path) {
  auto text = read_regular_file(path);
  if (!text.ok()) return std::move(text).error();
  return parse_revocation_list(*text, path);
}

Result<std::vector<std::string>> parse_revocation_list(const std::string& text_in, const std::string& path) {
  const std::string* text = &text_in;
  std::vector<std::string> ids;
  size_t line_no = 0, pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (!is_key_id(line))
      return bad_input(path + ":" + std::to_string(line_no) + ": expected a key id (64 lower-case hex digits)");
    ids.push_back(line);
  }
  return ids;
}

Result<TrustedKeys> TrustedKeys::load(const Keyring& keyring) {
  TrustedKeys out;
  for (const std::string& id : keyring.revoked_ids) {
    if (!is_key_id(id)) return bad_input("revoked id '" + id + "': expected 64 lower-case hex digits");
    out.revoked_.push_back(id);
  }
  // Every file is read relative to one fd of the directory, each opened
  // O_NOFOLLOW and checked to be a regular file: a symlink or FIFO planted in
  // the keyring is refused (the keyring fails closed), never followed or waited on.
  UniqueFd dir(::open(keyring.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open " + keyring.dir);
  // Once the directory is root's alone, nobody else can swap the files in it
  // between this check and the reads below.
  if (keyring.only_root_writes) NESTBOX_TRY(only_root_writes(dir.get(), ".", keyring.dir));
  std::string revoked_path = keyring.dir + "/revoked";
  struct stat st;
  if (::fstatat(dir.get(), "revoked", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (keyring.only_root_writes) NESTBOX_TRY(only_root_writes(dir.get(), "revoked", revoked_path));
    auto text = read_regular_file("revoked", dir.get());
    if (!text.ok()) return std::move(text).error().context(keyring.dir);
    auto ids = parse_revocation_list(*text, revoked_path);
    if (!ids.ok()) return std::move(ids).error();
    out.revoked_.insert(out.revoked_.end(), ids->begin(), ids->end());
  } else if (errno != ENOENT) {
    return sys_error("stat " + revoked_path);
  }
  int list_fd = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) return sys_error("open " + keyring.dir);
  auto names = pem_files(keyring.dir, list_fd);
  if (!names.ok()) return std::move(names).error();
  for (const std::string& n : *names) {
    std::string path = keyring.dir + "/" + n;
    if (keyring.only_root_writes) NESTBOX_TRY(only_root_writes(dir.get(), n, path));
    auto pem = read_regular_file(n, dir.get());
    if (!pem.ok()) return std::move(pem).error().context(keyring.dir);
    auto key = crypto::load_public_pem(*pem, path);
    if (!key.ok()) return std::move(key).error();
    auto alg = crypto::algorithm_for_key(*key);
    if (!alg.ok()) return std::move(alg).error().context(path);
    auto id = crypto::key_id(*key);
    if (!id.ok()) return std::move(id).error().context(path);
    out.keys_.emplace_back(crypto::to_hex(*id), std::move(*key));
  }
  return out;
}

const crypto::PublicKey* TrustedKeys::find(const std::string& id_hex) const {
  for (const auto& [id, key] : keys_)
    if (id == id_hex) return &key;
  return nullptr;
}

bool TrustedKeys::revoked(const std::string& id_hex) const {
  return std::find(revoked_.begin(), revoked_.end(), id_hex) != revoked_.end();
}

}  // namespace nestbox::verifier
