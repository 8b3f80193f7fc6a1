#include "mcu/auth/OpenSslCrypto.hpp"
