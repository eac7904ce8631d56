#include "kernel-check/config.h"

#include <zlib.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "kernel-check/version.h"
#include "util/file_io.h"

namespace nestbox::kernel_check {

Tristate KernelConfig::tristate(std::string_view symbol) const {
  auto it = symbols.find(symbol);
  if (it == symbols.end() || it->second.kind != ConfigValue::Kind::kTristate) return Tristate::kNo;
  return it->second.tristate;
}

namespace {

bool is_symbol_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// The offending text for a message: at most 40 characters, control bytes escaped.
std::string excerpt(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    unsigned char c = s[i];
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : text_(text), config_{file} {}

  Result<KernelConfig> run() {
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_no_;
      Status st = parse_line(line);
      if (!st.ok()) return std::move(st).error();
      pos = end + 1;
    }
    if (config_.symbols.empty())
      return bad_input(config_.file + ": no CONFIG_ symbols: not a kernel config");
    return std::move(config_);
  }

 private:
  Error error_at(size_t col, const std::string& what) const {
    return bad_input(config_.file + ":" + std::to_string(line_no_) + ":" + std::to_string(col + 1) +
                     ": " + what);
  }

  Status parse_line(std::string_view line) {
    if (line.find('\0') != std::string_view::npos)
      return error_at(line.find('\0'), "binary data (NUL byte): not a kernel config");
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return ok_status();
    if (line[first] == '#') return parse_comment(line, first);
    if (line.substr(first, 7) == "CONFIG_") return parse_assignment(line, first);
    return error_at(first, "expected 'CONFIG_<NAME>=<value>', '# CONFIG_<NAME> is not set' or a "
                           "comment, got '" + excerpt(line.substr(first)) + "'");
  }

  // "# CONFIG_X is not set", the version header, or any other comment.
  Status parse_comment(std::string_view line, size_t hash) {
    std::string_view body = line.substr(hash + 1);
    if (body.substr(0, 1) == " ") body.remove_prefix(1);
    constexpr std::string_view kNotSet = " is not set";
    if (body.substr(0, 7) == "CONFIG_" && body.size() > kNotSet.size() &&
        body.substr(body.size() - kNotSet.size()) == kNotSet) {
      std::string_view name = body.substr(7, body.size() - 7 - kNotSet.size());
      if (!name.empty() && all_symbol_chars(name)) {
        set(name, ConfigValue{ConfigValue::Kind::kTristate, Tristate::kNo, "n", line_no_});
        return ok_status();
      }
    }
    return parse_header(line, body);
  }

  Status parse_header(std::string_view line, std::string_view body) {
    std::string_view version_text;
    constexpr std::string_view kOld = "Linux kernel version: ";
    constexpr std::string_view kSuffix = " Kernel Configuration";
    if (body.substr(0, 6) == "Linux/" && body.size() > kSuffix.size() &&
        body.substr(body.size() - kSuffix.size()) == kSuffix) {
      std::string_view rest = body.substr(6, body.size() - 6 - kSuffix.size());
      size_t space = rest.find(' ');
      if (space == std::string_view::npos)
        return error_at(line.size() - body.size(), "kernel config header: expected "
                                                   "'Linux/<arch> <version> Kernel Configuration'");
      config_.arch = std::string(rest.substr(0, space));
      version_text = rest.substr(space + 1);
    } else if (body.substr(0, kOld.size()) == kOld) {
      version_text = body.substr(kOld.size());
    } else {
      return ok_status();  // an ordinary comment
    }
    std::optional<Version> v = parse_version(version_text);
    if (!v)
      return error_at(static_cast<size_t>(version_text.data() - line.data()),
                      "kernel config header: unparsable kernel version '" + excerpt(version_text) +
                          "', expected MAJOR.MINOR[.PATCH][-suffix]");
    config_.version = v;
    return ok_status();
  }

  static bool all_symbol_chars(std::string_view s) {
    for (char c : s)
      if (!is_symbol_char(c)) return false;
    return true;
  }

  Status parse_assignment(std::string_view line, size_t start) {
    size_t name_end = start + 7;
    while (name_end < line.size() && is_symbol_char(line[name_end])) ++name_end;
    std::string_view name = line.substr(start + 7, name_end - start - 7);
    if (name.empty() || name_end >= line.size() || line[name_end] != '=')
      return error_at(name_end, "expected '=' after the symbol name in '" +
                                    excerpt(line.substr(start)) + "'");
    std::string_view value = line.substr(name_end + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    ConfigValue v;
    v.line = line_no_;
    NESTBOX_TRY(parse_value(value, name_end + 1, name, &v));
    set(name, std::move(v));
    return ok_status();
  }

  Status parse_value(std::string_view value, size_t col, std::string_view name, ConfigValue* v) {
    if (value == "y" || value == "m" || value == "n") {
      v->kind = ConfigValue::Kind::kTristate;
      v->tristate = value == "y" ? Tristate::kYes : value == "m" ? Tristate::kModule : Tristate::kNo;
      v->text = std::string(value);
      return ok_status();
    }
    if (!value.empty() && value[0] == '"') return parse_string(value, col, name, v);
    if (is_number(value)) {
      v->kind = ConfigValue::Kind::kNumber;
      v->text = std::string(value);
      return ok_status();
    }
    return error_at(col, "CONFIG_" + std::string(name) +
                             ": expected y, m, n, a number or a quoted string, got '" +
                             excerpt(value) + "'");
  }

  static bool is_number(std::string_view s) {
    if (s.substr(0, 2) == "0x" || s.substr(0, 2) == "0X") {
      s.remove_prefix(2);
      if (s.empty()) return false;
      for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
      return true;
    }
    if (!s.empty() && s[0] == '-') s.remove_prefix(1);
    if (s.empty()) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return true;
  }

  Status parse_string(std::string_view value, size_t col, std::string_view name, ConfigValue* v) {
    std::string out;
    for (size_t i = 1; i < value.size(); ++i) {
      char c = value[i];
      if (c == '\\' && i + 1 < value.size()) {
        out += value[++i];
      } else if (c == '"') {
        if (i + 1 != value.size())
          return error_at(col + i + 1, "CONFIG_" + std::string(name) +
                                           ": unexpected text after the closing quote");
        v->kind = ConfigValue::Kind::kString;
        v->text = std::move(out);
        return ok_status();
      } else {
        out += c;
      }
    }
    return error_at(col, "CONFIG_" + std::string(name) + ": unterminated string (missing '\"')");
  }

  void set(std::string_view name, ConfigValue v) {
    config_.symbols.insert_or_assign(std::string(name), std::move(v));  // the last one wins, as in kconfig
  }

  std::string_view text_;
  KernelConfig config_;
  int line_no_ = 0;
};

}  // namespace

Result<KernelConfig> parse_config(std::string_view text, const std::string& file) {
  return Parser(text, file).run();
}

Result<std::string> gunzip(std::string_view data, const std::string& file, size_t max_size) {
  std::string out;
  size_t pos = 0;
  while (pos < data.size()) {
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return failure(file + ": inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + pos));
    zs.avail_in = static_cast<uInt>(data.size() - pos);
    int rc = Z_OK;
    char buf[65536];
    while (rc == Z_OK) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
      if (out.size() > max_size) {
        inflateEnd(&zs);
        return bad_input(file + ": gzip data inflates beyond " + std::to_string(max_size >> 20) +
                         " MiB: not a kernel config");
      }
      if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
      if (rc == Z_BUF_ERROR) rc = Z_OK;  // output buffer was full; go on
    }
    size_t consumed = data.size() - pos - zs.avail_in;
    std::string msg = zs.msg ? zs.msg : "";
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      if (rc == Z_BUF_ERROR || rc == Z_OK)
        return bad_input(file + ": truncated gzip data (the stream ends after " +
                         std::to_string(data.size()) + " bytes, " + std::to_string(out.size()) +
                         " bytes inflated)");
      return bad_input(file + ": corrupt gzip data at byte " + std::to_string(pos + consumed) +
                       (msg.empty() ? "" : ": " + msg));
    }
    pos += consumed;
    // gzip allows concatenated members; trailing zero padding is tolerated.
    while (pos < data.size() && data[pos] == '\0') ++pos;
  }
  return out;
}

Result<KernelConfig> load_config(const std::string& path) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) {
    bytes.error().kind = ErrorKind::kBadInput;  // a config path that cannot be read is a usage error
    return std::move(bytes.error().context("kernel config"));
  }
  std::string_view data = *bytes;
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    Result<std::string> text = gunzip(data, path);
    if (!text.ok()) return std::move(text).error();
    return parse_config(*text, path);
  }
  return parse_config(data, path);
}

}  // namespace nestbox::kernel_check
