// What Jazzer.js 4.0.0's prebuilt addon (fuzzer-linux-x64.node) needs beyond
// Debian 12's glibc 2.36 and libstdc++ (GCC 12): it was built against glibc 2.38
// and GCC 13. Preloaded (LD_PRELOAD) by reliability/fuzz/jazzer-compat.ts.

#include <cstdlib>
#include <ios>

// glibc 2.38's C23 variants differ from the classic ones only in also reading
// "0b" binary prefixes, which libFuzzer's flag parsing never passes.
extern "C" unsigned long __isoc23_strtoul(const char *s, char **end, int base) {
  return std::strtoul(s, end, base);
}
extern "C" long __isoc23_strtol(const char *s, char **end, int base) {
  return std::strtol(s, end, base);
}

// GCC 13's <iostream> calls this to make sure the standard streams are set up;
// GCC 12's libstdc++ sets them up through an ios_base::Init object instead.
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
