// Boost's assertion handler for the sanitizer build (CORRAL_SANITIZE defines
// BOOST_ENABLE_ASSERT_DEBUG_HANDLER; release builds compile BOOST_ASSERT out).
// Every failed assertion aborts as assert() does, except one known false
// positive: Boost 1.74's Beast asserts `n >= 5` when a final chunk's trailer
// arrives in pieces of fewer than five bytes, which is valid input (the code
// after the assertion handles it; later Boost releases dropped the check).
// A hostile client trickling a trailer would otherwise abort a debug build.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(BOOST_ENABLE_ASSERT_DEBUG_HANDLER) && !defined(NDEBUG)

namespace boost {

namespace {
bool known_false_positive(const char* expr, const char* file) {
  return std::strcmp(expr, "n >= 5") == 0 &&
         std::strstr(file, "boost/beast/http/impl/basic_parser.ipp") != nullptr;
}
}  // namespace

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (known_false_positive(expr, file)) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function,
                          char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr,
               msg);
  std::abort();
}

}  // namespace boost

#endif
