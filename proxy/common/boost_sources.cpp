// Boost.JSON and Boost.URL have no compiled library in Debian 12's Boost 1.81 packages: their
// sources are built here, once, for the whole program.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
