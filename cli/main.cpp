// corralctl: only wiring; everything else is in cli/ (library corral_cli).
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  return corral::cli::run_corralctl(argc, argv, std::cin, std::cout, std::cerr);
}
