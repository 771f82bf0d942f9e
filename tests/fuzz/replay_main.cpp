// For compilers without libFuzzer (g++, the release build): runs the
// target's LLVMFuzzerTestOneInput on every file of the corpus directories
// (or files) given as arguments, so that the corpora are regression tests in
// every build. Exit 0 when every input ran; a crash is the failure.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int run_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (!arg.empty() && arg.string()[0] == '-') continue;  // libFuzzer flags such as -runs=0
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
      for (const auto& f : files) runs += run_file(f);
    } else {
      runs += run_file(arg);
    }
  }
  std::printf("replayed %d input(s)\n", runs);
  return runs > 0 ? 0 : 1;
}
