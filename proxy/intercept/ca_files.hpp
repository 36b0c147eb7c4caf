#pragma once

// `oauth-injector ca init --dir DIR`: writes a new interception CA as DIR/ca.pem and DIR/ca.key.
//
// Runs once on the calling thread of a command-line tool; failures throw std::runtime_error with
// a one-line reason (caught in main). The key file is created with mode 0600 from its first byte
// (open(2) with O_EXCL and that mode, then a rename into place), so it is never readable by
// others, not even briefly.

#include <filesystem>
#include <string>

namespace oi::intercept {

struct ca_files {
    std::filesystem::path cert; // DIR/ca.pem, mode 0644
    std::filesystem::path key;  // DIR/ca.key, mode 0600
};

/// Creates `dir` (mode 0700) if missing, generates a CA (certificate_authority::generate) and
/// writes it. Refuses when either file exists, unless `force`, in which case both are replaced
/// atomically one after the other.
ca_files write_new_ca(const std::filesystem::path& dir, bool force);

/// What to tell the operator: where the files are and how common clients trust the CA.
[[nodiscard]] std::string trust_instructions(const ca_files& files);

} // namespace oi::intercept
