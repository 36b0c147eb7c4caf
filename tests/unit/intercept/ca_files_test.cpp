#include "intercept/ca_files.hpp"

#include "intercept/certificate_authority.hpp"
#include "support/test_pki.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using oi::intercept::certificate_authority;
using oi::intercept::write_new_ca;

namespace {

mode_t mode_of(const std::filesystem::path& path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string read_all(const std::filesystem::path& path)
{
    std::ifstream in{path};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Sets the process umask for the scope of a test.
struct scoped_umask {
    explicit scoped_umask(mode_t mask) : previous(::umask(mask)) {}
    ~scoped_umask() { ::umask(previous); }
    scoped_umask(const scoped_umask&) = delete;
    scoped_umask& operator=(const scoped_umask&) = delete;
    mode_t previous;
};

} // namespace

TEST_CASE("ca init writes a loadable CA with a private key of mode 0600", "[intercept][ca_init]")
{
    const oi::test::scoped_temp_dir temp;
    const scoped_umask open_umask{0};

    const auto files = write_new_ca(temp.path() / "ca", false);

    CHECK(files.cert == temp.path() / "ca" / "ca.pem");
    CHECK(files.key == temp.path() / "ca" / "ca.key");
    CHECK(mode_of(files.key) == 0600);
    CHECK(mode_of(files.cert) == 0644);
    CHECK(mode_of(temp.path() / "ca") == 0700);
    CHECK_NOTHROW(certificate_authority::load(files.cert, files.key));
    CHECK(std::distance(std::filesystem::directory_iterator{temp.path() / "ca"},
                        std::filesystem::directory_iterator{}) == 2);
}

TEST_CASE("ca init refuses to overwrite an existing CA", "[intercept][ca_init]")
{
    const oi::test::scoped_temp_dir temp;
    const auto files = write_new_ca(temp.path(), false);
    const auto cert_before = read_all(files.cert);
    const auto key_before = read_all(files.key);

    CHECK_THROWS_WITH(write_new_ca(temp.path(), false),
                      Catch::Matchers::Contains("already exists") &&
                          Catch::Matchers::Contains("--force"));

    CHECK(read_all(files.cert) == cert_before);
    CHECK(read_all(files.key) == key_before);
}

TEST_CASE("ca init refuses when only the key exists", "[intercept][ca_init]")
{
    const oi::test::scoped_temp_dir temp;
    std::ofstream{temp.path() / "ca.key"} << "precious";

    CHECK_THROWS_WITH(write_new_ca(temp.path(), false), Catch::Matchers::Contains("ca.key"));

    CHECK(read_all(temp.path() / "ca.key") == "precious");
    CHECK_FALSE(std::filesystem::exists(temp.path() / "ca.pem"));
}

TEST_CASE("ca init with force replaces both files with a new CA", "[intercept][ca_init]")
{
    const oi::test::scoped_temp_dir temp;
    const auto files = write_new_ca(temp.path(), false);
    const auto cert_before = read_all(files.cert);

    write_new_ca(temp.path(), true);

    CHECK(read_all(files.cert) != cert_before);
    CHECK(mode_of(files.key) == 0600);
    CHECK_NOTHROW(certificate_authority::load(files.cert, files.key));
}

TEST_CASE("ca init's instructions name the files and the clients' trust settings",
          "[intercept][ca_init]")
{
    const oi::intercept::ca_files files{"/etc/oi/ca.pem", "/etc/oi/ca.key"};

    const auto text = oi::intercept::trust_instructions(files);

    CHECK_THAT(text, Catch::Matchers::Contains("curl --cacert /etc/oi/ca.pem"));
    CHECK_THAT(text, Catch::Matchers::Contains("REQUESTS_CA_BUNDLE=/etc/oi/ca.pem"));
    CHECK_THAT(text, Catch::Matchers::Contains("NODE_EXTRA_CA_CERTS=/etc/oi/ca.pem"));
    CHECK_THAT(text, Catch::Matchers::Contains("/etc/oi/ca.key"));
}
