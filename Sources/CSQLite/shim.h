#ifndef ARGUS_CSQLITE_SHIM_H
#define ARGUS_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
