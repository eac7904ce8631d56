// The reference for people (nestbox.1, docs/cli.md) and shells (completion)
// must agree with the command table that parses the command line.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/reference.h"

namespace nestbox::cli {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command, returns its standard output and error.
std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  pclose(p);
  return out;
}

std::string roff_escaped(std::string s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

std::vector<const CLI::App*> subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> long_options(const CLI::App& sub) {
  std::vector<std::string> out;
  for (const CLI::Option* o : sub.get_options([](const CLI::Option*) { return true; }))
    for (const std::string& l : o->get_lnames())
      if (l != "help") out.push_back("--" + l);
  return out;
}

// Each option's names ("-q", "--quiet"), except --help.
std::vector<std::vector<std::string>> option_names(const CLI::App& sub) {
  std::vector<std::vector<std::string>> out;
  for (const CLI::Option* o : sub.get_options([](const CLI::Option*) { return true; })) {
    std::vector<std::string> names;
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    if (!names.empty() && names[0] != "--help") out.push_back(names);
  }
  return out;
}

TEST(Reference, ManPageHasEveryCommandAndOption) {
  auto line = make_command_line();
  std::string man = man_page(line->app);
  ASSERT_GE(subcommands(line->app).size(), commands().size());
  for (const CLI::App* sub : subcommands(line->app)) {
    EXPECT_NE(man.find(".SS \"nestbox " + roff_escaped(sub->get_name())), std::string::npos) << sub->get_name();
    for (const std::string& opt : long_options(*sub))
      EXPECT_NE(man.find(roff_escaped(opt)), std::string::npos) << sub->get_name() << " " << opt;
  }
}

TEST(Reference, BuiltFilesAreTheTableRendered) {
  auto line = make_command_line();
  EXPECT_EQ(read_text(NESTBOX_CLI_BINARY_DIR "/nestbox.1"), man_page(line->app));
  EXPECT_EQ(read_text(NESTBOX_CLI_BINARY_DIR "/nestbox.bash"), bash_completion(line->app));
}

TEST(Reference, GroffReadsTheManPageWithoutWarnings) {
  if (shell("command -v groff").empty()) GTEST_SKIP() << "groff is not installed (scripts/install-deps.sh installs it)";
  EXPECT_EQ(shell("groff -man -Tutf8 -ww -z " NESTBOX_CLI_BINARY_DIR "/nestbox.1"), "");
  std::string text = shell("groff -man -Tascii " NESTBOX_CLI_BINARY_DIR "/nestbox.1 | col -b");
  EXPECT_NE(text.find("nestbox compose"), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("--hardlink-dir"), std::string::npos);
}

TEST(Reference, BashCompletesCommandsAndOptions) {
  std::string script = NESTBOX_CLI_BINARY_DIR "/nestbox.bash";
  auto complete = [&](const std::string& words, int cword) {
    return shell("bash -c 'source " + script + "; COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                 "; _nestbox; echo \"${COMPREPLY[*]}\"'");
  };
  EXPECT_EQ(complete("nestbox comp", 1), "compose\n");
  EXPECT_EQ(complete("nestbox ke", 1), "kernel-check keygen\n");
  EXPECT_EQ(complete("nestbox compose --hard", 2), "--hardlink-dir\n");
  EXPECT_EQ(complete("nestbox gc --max", 2), "--max-size\n");
}

// `name` as a whole word of `text`: "-o" is not found in "-out" or "--json-o".
bool mentions(const std::string& text, const std::string& name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    bool starts = at == 0 || !word(text[at - 1]);
    bool ends = at + name.size() == text.size() || !word(text[at + name.size()]);
    if (starts && ends) return true;
  }
  return false;
}

// docs/cli.md has a row per command, and every option of the command is
// named in that command's rows.
TEST(Reference, DocsNameEveryCommandAndOption) {
  std::string docs = read_text(NESTBOX_SOURCE_DIR "/docs/cli.md");
  ASSERT_FALSE(docs.empty());
  auto line = make_command_line();
  for (const CLI::App* sub : subcommands(line->app)) {
    std::string rows;
    for (size_t at = docs.find("| `nestbox " + sub->get_name() + " "); at != std::string::npos;
         at = docs.find("| `nestbox " + sub->get_name() + " ", at + 1))
      rows += docs.substr(at, docs.find('\n', at) - at) + "\n";
    ASSERT_FALSE(rows.empty()) << "docs/cli.md has no row for nestbox " << sub->get_name();
    for (const auto& names : option_names(*sub)) {
      bool named = false;
      for (const std::string& n : names) named = named || mentions(rows, n);
      EXPECT_TRUE(named) << "docs/cli.md: nestbox " << sub->get_name() << " " << names[0];
    }
  }
}

}  // namespace
}  // namespace nestbox::cli
