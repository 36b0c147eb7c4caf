#include "intercept/ca_files.hpp"

#include "intercept/certificate_authority.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace oi::intercept {

namespace {

constexpr mode_t k_key_mode = 0600;
constexpr mode_t k_cert_mode = 0644;
constexpr mode_t k_dir_mode = 0700;

[[noreturn]] void fail_errno(const std::filesystem::path& path, std::string_view what)
{
    throw std::runtime_error(path.string() + ": " + std::string{what} + ": " +
                             std::strerror(errno));
}

/// Writes `text` to a new file beside `target`, created with `mode` (fchmod afterwards so that the
/// umask cannot widen or narrow it), and returns the temporary path.
std::filesystem::path write_temporary(const std::filesystem::path& target, const std::string& text,
                                      mode_t mode)
{
    const std::filesystem::path temp = target.string() + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        fail_errno(temp, "cannot create");
    }
    std::size_t written = 0;
    bool ok = ::fchmod(fd, mode) == 0;
    while (ok && written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        ok = n > 0 || (n < 0 && errno == EINTR);
        written += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    ok = ::fsync(fd) == 0 && ok;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(temp.c_str());
        errno = saved;
        fail_errno(temp, "cannot write");
    }
    return temp;
}

/// Moves `temp` to `target`: rename(2) when replacing is allowed, link(2) otherwise, which fails
/// with EEXIST instead of clobbering a file that appeared meanwhile.
void install(const std::filesystem::path& temp, const std::filesystem::path& target, bool force)
{
    const int rc =
        force ? ::rename(temp.c_str(), target.c_str()) : ::link(temp.c_str(), target.c_str());
    const int saved = errno;
    if (!force || rc != 0) {
        ::unlink(temp.c_str());
    }
    if (rc != 0) {
        errno = saved;
        fail_errno(target, force ? "cannot replace" : "cannot create");
    }
}

void refuse_existing(const std::filesystem::path& path)
{
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
        throw std::runtime_error(path.string() +
                                 ": already exists; use --force to replace the CA (every client "
                                 "that trusts the old one must then be given the new one)");
    }
}

} // namespace

ca_files write_new_ca(const std::filesystem::path& dir, bool force)
{
    const ca_files files{dir / "ca.pem", dir / "ca.key"};
    if (!force) {
        refuse_existing(files.cert);
        refuse_existing(files.key);
    }
    if (::mkdir(dir.c_str(), k_dir_mode) != 0 && errno != EEXIST) {
        fail_errno(dir, "cannot create the directory");
    }

    const auto ca = certificate_authority::generate();
    const auto cert_pem = to_pem(ca.certificate());
    const auto key_pem = to_pem(ca.key());
    if (!cert_pem || !key_pem) {
        throw std::runtime_error(openssl_error("cannot encode the CA as PEM"));
    }

    const auto key_temp = write_temporary(files.key, *key_pem, k_key_mode);
    install(key_temp, files.key, force);
    const auto cert_temp = write_temporary(files.cert, *cert_pem, k_cert_mode);
    install(cert_temp, files.cert, force);
    return files;
}

std::string trust_instructions(const ca_files& files)
{
    const std::string cert = std::filesystem::absolute(files.cert).string();
    const std::string key = std::filesystem::absolute(files.key).string();
    return "wrote " + cert + " (CA certificate)\n" + "wrote " + key +
           " (private key, mode 0600: keep it secret)\n\n"
           "Set in the configuration:\n"
           "  intercept: { ca_cert: " +
           cert + ", ca_key: " + key +
           " }\n\n"
           "Trust the CA in the plugin runner's clients (HTTPS_PROXY=http://PROXY_HOST:PORT):\n"
           "  curl:             curl --cacert " +
           cert +
           " ...\n"
           "  Python requests:  REQUESTS_CA_BUNDLE=" +
           cert +
           "\n"
           "  Python urllib:    SSL_CERT_FILE=" +
           cert +
           "\n"
           "  Node.js:          NODE_EXTRA_CA_CERTS=" +
           cert + "\n";
}

} // namespace oi::intercept
