// The progress store's signatures: SHA-256 and HMAC-SHA256 against published
// vectors, the per-checkout key (private, atomic, refused when it is not),
// and every way a hand-made or edited record fails to unlock the gate; a
// store path that is a directory or a symbolic link loop.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
namespace progress = tt::progress;
using progress::Json;
using tt_test::TempDir;

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    REQUIRE(f.good());
}

std::string hex(const progress::Digest& d) { return progress::hex_bytes(d.data(), d.size()); }

std::string sha_hex(const std::string& s) { return hex(progress::sha256(s.data(), s.size())); }

std::string hmac_hex(const std::string& key, const std::string& msg) {
    return hex(progress::hmac_sha256(key.data(), key.size(), msg.data(), msg.size()));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// What std::cerr receives while f runs.
template <class F>
std::string stderr_of(F f) {
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    try {
        f();
    } catch (...) {
        std::cerr.rdbuf(old);
        throw;
    }
    std::cerr.rdbuf(old);
    return captured.str();
}

void fake_libraries(const fs::path& dir) {
    for (int m = 1; m <= 9; ++m)
        write_text(dir / ("tt_" + std::string(tt::module_info(m).dir) + "_student.so"), "bytes of " + std::to_string(m));
}

// What `tito grade 09 --integrated` records after a full pass.
progress::GradeRecord passing_09(const std::string& lib_dir) {
    tt::ImplChoice student;
    student.fill(tt::Variant::student);
    progress::GradeRecord r;
    r.module = 9;
    r.mode = progress::Mode::integrated;
    r.score = r.max_score = 30;
    r.cases = r.passed = 10;
    r.passed_all = true;
    r.timestamp = progress::now_iso8601(&r.time);
    r.impl = "student";
    r.libraries = progress::stamp_libraries(9, student, lib_dir);
    return r;
}

// The store's JSON, edited by f, written back as a person would.
template <class F>
void hand_edit(const std::string& path, F f) {
    Json doc = Json::parse(read_text(path));
    f(doc);
    write_text(path, doc.dump(2));
}

Json& record_json(Json& doc, const char* module, const char* mode) {
    Json* r = doc.find("grades")->find(module)->find(mode);
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("SHA-256 matches FIPS 180 vectors and hashlib at the block boundaries", "[progress][sha256]") {
    // FIPS 180-2 appendix B and the empty string.
    CHECK(sha_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Lengths where the padding needs one or two blocks: byte i = (7 i + 1) mod
    // 256, digests from Python's hashlib.
    const std::pair<size_t, const char*> boundary[] = {
        {55, "16fa57a0a3423a715d594516339f36189d6b5f93754a9714fef202616a9fabfe"},
        {56, "c37b44e5f1b18554b36966f4f8e08bfbf3164c4b6c10374d12d89850892073c5"},
        {63, "bbba992d2c85af960fb2987a1fd05e0aa82a3db3c740dd8982a9e273b75e36a3"},
        {64, "66bd4633ed6f71c4ecfa4763bf7ba1c8ec7612de9aa6c0578a7b675207c71e0b"},
        {119, "a3ed307b730fa77c07531300c6e4a282330011d4d4caf6bb7b63ae05950f4b66"},
        {120, "8e3b15d9fea7472655aa069620b7f8c2e55ee1499f763200a7515fe826e99d20"}};
    for (auto [n, digest] : boundary) {
        std::string s;
        for (size_t i = 0; i < n; ++i) s += static_cast<char>((i * 7 + 1) % 256);
        INFO("length " << n);
        CHECK(sha_hex(s) == digest);
    }
}

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[progress][hmac]") {
    CHECK(hmac_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hmac_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // A key longer than the 64-byte block is hashed first (test case 6).
    CHECK(hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(progress::equal_in_constant_time("abc", "abc"));
    CHECK_FALSE(progress::equal_in_constant_time("abc", "abd"));
    CHECK_FALSE(progress::equal_in_constant_time("abc", "ab"));
}

TEST_CASE("the key: made on first use, private, atomic, refused when it is not private", "[progress][key]") {
    TempDir tmp("progress");
    const std::string store = (tmp.path / "sub" / "progress.json").string();
    const fs::path key = progress::key_path(store);
    CHECK(key == tmp.path / "sub" / "progress.json.key");

    // Reading never creates it.
    progress::Secret none = progress::load_secret(store, false);
    CHECK(none.key.empty());
    CHECK(contains(none.problem, "missing"));
    CHECK_FALSE(fs::exists(key));

    progress::Secret made = progress::load_secret(store, true);
    REQUIRE(made.problem.empty());
    REQUIRE(made.key.size() == 32);
    struct stat st {};
    REQUIRE(::stat(key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string text = read_text(key);
    REQUIRE(text.size() == 65);
    CHECK(text.substr(0, 64) == progress::hex_bytes(made.key.data(), made.key.size()));
    // Only the key is left: no temporary file.
    int files = 0;
    for (const auto& e : fs::directory_iterator(key.parent_path())) files += e.path() == key ? 1 : 100;
    CHECK(files == 1);
    // Read again: the same key; another checkout: another key.
    CHECK(progress::load_secret(store, true).key == made.key);
    CHECK(progress::load_secret((tmp.path / "other" / "progress.json").string(), true).key != made.key);

    // Four threads creating one key at once all end up with the same one.
    const std::string raced = (tmp.path / "race" / "progress.json").string();
    std::vector<std::string> keys(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < keys.size(); ++i)
        threads.emplace_back([&, i] { keys[i] = progress::load_secret(raced, true).key; });
    for (auto& t : threads) t.join();
    for (const std::string& k : keys) CHECK((k.size() == 32 && k == keys[0]));

    // Refused: readable by others, a symbolic link, damaged.
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    progress::Secret open = progress::load_secret(store, true);
    CHECK(open.key.empty());
    CHECK(contains(open.problem, "mode 0644"));
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    const std::string linked = (tmp.path / "link" / "progress.json").string();
    fs::create_directories(tmp.path / "link");
    fs::create_symlink(key, progress::key_path(linked));
    progress::Secret via_link = progress::load_secret(linked, true);
    CHECK(via_link.key.empty());
    CHECK(contains(via_link.problem, "symbolic link"));
    write_text(key, std::string(64, 'z') + "\n");
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    CHECK(contains(progress::load_secret(store, false).problem, "damaged"));
}

TEST_CASE("records are signed: only what tito recorded unlocks the gate", "[progress][gate][mac]") {
    TempDir tmp("progress");
    fs::path libs = tmp.path / "lib";
    fake_libraries(libs);
    const std::string path = (tmp.path / "progress.json").string();
    progress::GradeRecord pass = passing_09(libs.string());
    progress::record_grade(pass, path);
    const std::string signed_text = read_text(path);
    auto gate = [&] { return progress::gate_status(9, progress::load(path), libs.string()); };
    REQUIRE(gate().unlocked);
    auto back = progress::load(path).find(9, progress::Mode::integrated);
    REQUIRE(back);
    CHECK(back->unverified.empty());
    CHECK(progress::check_fresh(*back, libs.string()).fresh);
    // The signature covers the whole record: recomputing it with the key
    // gives what is stored.
    Json doc = Json::parse(signed_text);
    CHECK(record_json(doc, "09", "integrated").string_or("hmac_sha256", "") ==
          progress::sign_record(pass, progress::load_secret(path, false).key));

    auto require_locked = [&](const std::string& why) {
        progress::GateStatus g = gate();
        CHECK_FALSE(g.unlocked);
        REQUIRE(g.reasons.size() == 1);
        CHECK(contains(g.reasons[0], why));
        CHECK(contains(g.reasons[0], "forged or edited"));
        CHECK(contains(g.reasons[0], "module 09"));
        auto r = progress::load(path).find(9, progress::Mode::integrated);
        REQUIRE(r);
        progress::Freshness f = progress::check_fresh(*r, libs.string());
        CHECK_FALSE(f.fresh);
        CHECK(contains(f.reasons.at(0), "forged or edited"));
    };

    SECTION("a failed grade edited into a pass") {
        progress::GradeRecord fail = pass;
        fail.score = 10;
        fail.passed = 3;
        fail.passed_all = false;
        progress::record_grade(fail, path);
        CHECK_FALSE(gate().unlocked);
        hand_edit(path, [](Json& d) {
            Json& r = record_json(d, "09", "integrated");
            r.set("score", 30);
            r.set("passed", 10);
            r.set("passed_all", true);
        });
        require_locked("does not match its signature");
    }
    SECTION("one field changed, however little") {
        hand_edit(path, [](Json& d) { record_json(d, "09", "integrated").set("time", 1); });
        require_locked("does not match its signature");
    }
    SECTION("a store written by hand with the real hashes and no signature") {
        hand_edit(path, [](Json& d) { record_json(d, "09", "integrated").erase("hmac_sha256"); });
        require_locked("carries no signature");
    }
    SECTION("a signature copied onto another module's record") {
        progress::GradeRecord iso = pass;
        iso.mode = progress::Mode::isolated;
        progress::record_grade(iso, path);
        // The isolated record, signed, moved to the integrated slot.
        hand_edit(path, [](Json& d) {
            Json iso_json = record_json(d, "09", "isolated");
            d.find("grades")->find("09")->set("integrated", iso_json);
        });
        require_locked("does not match its signature");
    }
    SECTION("a store copied from another checkout (another key)") {
        fs::path other = tmp.path / "other" / "progress.json";
        progress::record_grade(pass, other.string());
        fs::copy_file(other, path, fs::copy_options::overwrite_existing);
        require_locked("does not match its signature");
    }
    SECTION("the key removed, or made readable by others") {
        fs::remove(progress::key_path(path));
        require_locked("key file");
        require_locked("is missing");
        // The next grade makes a new key and a trusted record.
        progress::record_grade(pass, path);
        CHECK(gate().unlocked);
        fs::permissions(progress::key_path(path), fs::perms::others_read, fs::perm_options::add);
        require_locked("mode 0604");
        // tito refuses to sign with a key others could read.
        CHECK_THROWS_WITH(progress::record_grade(pass, path), Catch::Contains("mode 0604"));
    }
}

TEST_CASE("a store path that is a directory or a symbolic link loop is named, not mistaken", "[progress][store]") {
    TempDir tmp("progress");
    fs::path libs = tmp.path / "lib";
    fake_libraries(libs);
    progress::GradeRecord pass = passing_09(libs.string());

    const std::string dir = (tmp.path / "progress.json").string();
    fs::create_directories(fs::path(dir) / "inside");
    progress::Store s;
    std::string warning = stderr_of([&] { s = progress::load(dir); });
    CHECK(contains(warning, dir));
    CHECK(contains(warning, "is a directory"));
    CHECK_FALSE(contains(warning, "empty"));
    CHECK_FALSE(s.find(9, progress::Mode::integrated));
    CHECK(fs::is_directory(fs::path(dir) / "inside"));  // left as it was, not moved aside
    std::string err;
    stderr_of([&] {
        try {
            progress::record_grade(pass, dir);
        } catch (const std::runtime_error& e) {
            err = e.what();
        }
    });
    CHECK(contains(err, "is a directory"));
    CHECK(fs::is_directory(fs::path(dir) / "inside"));

    const std::string loop = (tmp.path / "loop.json").string();
    fs::create_symlink(tmp.path / "loop2.json", loop);
    fs::create_symlink(loop, tmp.path / "loop2.json");
    warning = stderr_of([&] { s = progress::load(loop); });
    CHECK(contains(warning, "symbolic link loop"));
    CHECK(contains(warning, loop));
    CHECK_FALSE(s.find(9, progress::Mode::integrated));
    // As the warning says, the next grade replaces the link with a store.
    stderr_of([&] { progress::record_grade(pass, loop); });
    CHECK(fs::is_regular_file(fs::symlink_status(loop)));
    CHECK(progress::gate_status(9, progress::load(loop), libs.string()).unlocked);
}

TEST_CASE("links planted beside the store are never written through", "[progress][store]") {
    TempDir tmp("progress");
    fs::path libs = tmp.path / "lib";
    fake_libraries(libs);
    progress::GradeRecord pass = passing_09(libs.string());
    const std::string path = (tmp.path / "progress.json").string();
    // A victim file, and links to it where an older tito put its lock and
    // its temporary file (path + ".tmp-<pid>").
    const fs::path victim = tmp.path / "victim.txt";
    { std::ofstream(victim) << "precious\n"; }
    fs::create_symlink(victim, path + ".lock");
    for (int near = -16; near <= 16; ++near) fs::create_symlink(victim, path + ".tmp-" + std::to_string(getpid() + near));
    stderr_of([&] { progress::record_grade(pass, path); });
    CHECK(read_text(victim.string()) == "precious\n");
    CHECK(fs::is_regular_file(fs::symlink_status(path)));
    CHECK(progress::gate_status(9, progress::load(path), libs.string()).unlocked);
}

TEST_CASE("a store of megabytes is set aside unread", "[progress][store]") {
    TempDir tmp("progress");
    const std::string path = (tmp.path / "progress.json").string();
    write_text(path, "");
    fs::resize_file(path, uint64_t{2} << 20);  // sparse: nothing written
    progress::Store s;
    std::string warning = stderr_of([&] { s = progress::load(path); });
    CHECK(contains(warning, "2097152 bytes"));
    CHECK_FALSE(fs::exists(path));
    int aside = 0;
    for (const auto& e : fs::directory_iterator(tmp.path))
        aside += e.path().filename().string().rfind("progress.json.corrupt-", 0) == 0;
    CHECK(aside == 1);
    // Exactly at the bound it is read (and, not being JSON, set aside as corrupt).
    write_text(path, "");
    fs::resize_file(path, (uint64_t{1} << 20));
    warning = stderr_of([&] { s = progress::load(path); });
    CHECK_FALSE(contains(warning, "bytes, far more"));
    CHECK(contains(warning, "corrupt"));
}

TEST_CASE("numbers edited out of range read without undefined behaviour", "[progress][store]") {
    TempDir tmp("progress");
    const std::string path = (tmp.path / "progress.json").string();
    write_text(path, R"({"version":1,"grades":{"03":{"isolated":{"score":1,"max_score":2,"passed_all":false,
                        "cases":1e300,"passed":-1e300,"time":1e300}}}})");
    auto r = progress::load(path).find(3, progress::Mode::isolated);
    REQUIRE(r);
    CHECK(r->cases == 1000000000);
    CHECK(r->passed == 0);
    CHECK(r->time == 4000000000000);
    CHECK(contains(r->unverified, "carries no signature"));
}
