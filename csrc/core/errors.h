// Error kinds of the core. Each carries a message saying what was expected
// and what was found; the Python layer turns them into one line on stderr.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace loadrun {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The model itself is wrong: bad graph, bad attribute, shapes that cannot fit.
class ModelError : public Error {
 public:
  using Error::Error;
};
// The caller's data is wrong: input name, shape or dtype.
class InputError : public Error {
 public:
  using Error::Error;
};
// Valid, but not something this build can do.
class UnsupportedError : public Error {
 public:
  using Error::Error;
};
// A bug in loadrun.
class InternalError : public Error {
 public:
  using Error::Error;
};
// The machine lacks what the request needs (memory). Python: MemoryError,
// loadrun.ResourceError where the Python layer sees it.
class ResourceError : public Error {
 public:
  using Error::Error;
};

namespace detail {
inline void build(std::ostringstream&) {}
template <typename T, typename... R>
void build(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  build(os, rest...);
}
}  // namespace detail

template <typename... A>
std::string str_cat(const A&... a) {
  std::ostringstream os;
  detail::build(os, a...);
  return os.str();
}

}  // namespace loadrun

// LR_CHECK(cond, ModelError, "text", value, ...): throw the named error kind.
#define LR_CHECK(cond, Kind, ...)                                \
  do {                                                           \
    if (!(cond)) throw ::loadrun::Kind(::loadrun::str_cat(__VA_ARGS__)); \
  } while (0)
#define LR_THROW(Kind, ...) throw ::loadrun::Kind(::loadrun::str_cat(__VA_ARGS__))

namespace loadrun {
// Runs f; an error it throws is re-thrown as the same kind with `prefix` in front.
template <class F>
auto with_context(const std::string& prefix, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ModelError& e) {
    throw ModelError(prefix + e.what());
  } catch (const InputError& e) {
    throw InputError(prefix + e.what());
  } catch (const UnsupportedError& e) {
    throw UnsupportedError(prefix + e.what());
  } catch (const InternalError& e) {
    throw InternalError(prefix + e.what());
  } catch (const ResourceError& e) {
    throw ResourceError(prefix + e.what());
  }
}
}  // namespace loadrun
