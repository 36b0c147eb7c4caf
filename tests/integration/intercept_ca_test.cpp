// The interception CA from the outside: `oauth-injector ca init` as operators run it, and leaves
// checked by the `openssl verify` command line, as an operator would check them.

#include "intercept/ca_files.hpp"
#include "intercept/leaf_cache.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>

using oi::intercept::certificate_authority;
using oi::intercept::leaf_cache;
using namespace std::chrono_literals;

namespace {

oi::test::exit_status run_to_end(oi::test::process& child)
{
    const auto status = child.wait_exit(30s);
    REQUIRE(status.has_value());
    return *status;
}

/// `openssl verify` of the leaf that `cache` serves for `host`, checked as a TLS server name.
oi::test::exit_status openssl_verify(leaf_cache& cache, const std::filesystem::path& ca_file,
                                     const std::filesystem::path& dir, const std::string& host,
                                     const std::string& check_host, std::string& output)
{
    const auto context = cache.server_context_for(host);
    REQUIRE(context);
    const auto leaf_file = dir / "leaf.pem";
    std::ofstream{leaf_file} << *oi::intercept::to_pem(leaf_cache::leaf_of(*context));
    const bool ip = check_host.find_first_not_of("0123456789.:") == std::string::npos;
    oi::test::process child{
        {.program = "openssl",
         .args = {"verify", "-CAfile", ca_file.string(), "-purpose", "sslserver",
                  ip ? "-verify_ip" : "-verify_hostname", check_host, leaf_file.string()}}};
    const auto status = run_to_end(child);
    output = child.stdout_text() + child.stderr_text();
    return status;
}

} // namespace

TEST_CASE("openssl verify accepts leaves for names and IP addresses against the CA file",
          "[intercept]")
{
    const oi::test::scoped_temp_dir dir;
    const auto files = oi::intercept::write_new_ca(dir.path(), false);
    leaf_cache cache{certificate_authority::load(files.cert, files.key)};
    std::string output;

    CHECK(openssl_verify(cache, files.cert, dir.path(), "api.example.com:443", "api.example.com",
                         output)
              .success());
    CHECK_THAT(output, Catch::Matchers::Contains("OK"));
    CHECK(
        openssl_verify(cache, files.cert, dir.path(), "127.0.0.1", "127.0.0.1", output).success());
    CHECK(openssl_verify(cache, files.cert, dir.path(), "[::1]:443", "::1", output).success());
    CHECK_FALSE(
        openssl_verify(cache, files.cert, dir.path(), "a.example", "b.example", output).success());
}

#ifdef OI_BINARY
TEST_CASE("ca init writes the CA with a 0600 key, says how to trust it, and refuses to overwrite",
          "[intercept]")
{
    const oi::test::scoped_temp_dir dir;
    const auto ca_dir = (dir.path() / "ca").string();

    oi::test::process first{{.program = OI_BINARY, .args = {"ca", "init", "--dir", ca_dir}}};
    const auto first_status = run_to_end(first);
    oi::test::process second{{.program = OI_BINARY, .args = {"ca", "init", "--dir", ca_dir}}};
    const auto second_status = run_to_end(second);
    oi::test::process forced{
        {.program = OI_BINARY, .args = {"ca", "init", "--dir", ca_dir, "--force"}}};
    const auto forced_status = run_to_end(forced);

    CHECK(first_status.success());
    CHECK_THAT(first.stdout_text(), Catch::Matchers::Contains(ca_dir + "/ca.pem") &&
                                        Catch::Matchers::Contains("NODE_EXTRA_CA_CERTS"));
    struct stat st {};
    REQUIRE(::stat((dir.path() / "ca" / "ca.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(second_status.success());
    CHECK_THAT(second.stderr_text(), Catch::Matchers::Contains("already exists"));
    CHECK(forced_status.success());
    CHECK_NOTHROW(
        certificate_authority::load(dir.path() / "ca" / "ca.pem", dir.path() / "ca" / "ca.key"));
}
#endif
