// nestbox-launch only (not the library): the C++ runtime's throw paths end in
// abort() instead of the unwinder and the verbose terminate handler with its
// demangler — about 90 KiB of the static libstdc++ the router never needs.
// Nothing in nestbox throws; the standard library throws only on allocation
// failure or a broken invariant, where failing closed is the right answer.
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "nestbox-launch: fatal: %s\n", what);
  std::abort();
}
}  // namespace

// The global allocation functions, replaced ([replacement.functions]): the
// library's own operator new throws std::bad_alloc, which alone links the
// unwinder, the personality routine and the exception allocator (~45 KiB).
void* operator new(std::size_t n) {
  if (void* p = std::malloc(n ? n : 1)) return p;
  die("out of memory");
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace __gnu_cxx {
void __verbose_terminate_handler() { die("terminate"); }
}  // namespace __gnu_cxx

namespace std {
void __throw_bad_alloc() { die("out of memory"); }
void __throw_bad_array_new_length() { die("bad array length"); }
void __throw_length_error(const char* s) { die(s); }
void __throw_logic_error(const char* s) { die(s); }
void __throw_out_of_range(const char* s) { die(s); }
void __throw_out_of_range_fmt(const char* s, ...) { die(s); }
void __throw_invalid_argument(const char* s) { die(s); }
void __throw_bad_function_call() { die("bad function call"); }
void __throw_bad_variant_access(const char* s) { die(s); }
void __throw_bad_variant_access(bool) { die("bad variant access"); }
void __throw_system_error(int) { die("system error"); }
}  // namespace std

