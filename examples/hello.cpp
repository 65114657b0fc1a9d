// Prints the version of the linked rediscache library.
#include <iostream>

#include <rediscache/version.hpp>

int main() {
  std::cout << "rediscache " << rediscache::version() << '\n';
  return 0;
}
