// The progress store API: JSON reader/writer, FNV-1a hashing, atomic saves,
// corrupt files set aside, records, freshness and the gate.
#include "cli_helpers.hpp"

#include "tinytorch/progress.hpp"

using namespace cli_test;
namespace progress = tt::progress;
using progress::Json;

TEST_CASE("append_utf8 encodes 1 to 4 bytes and skips what is not a code point", "[progress][utf8]") {
    // the bytes worked out from the UTF-8 table (RFC 3629)
    std::string s;
    progress::append_utf8(s, 0x41);      // A
    progress::append_utf8(s, 0xE9);      // e acute: C3 A9
    progress::append_utf8(s, 0x20AC);    // euro sign: E2 82 AC
    progress::append_utf8(s, 0x1F600);   // grinning face: F0 9F 98 80
    progress::append_utf8(s, 0x110000);  // beyond U+10FFFF: nothing
    CHECK(s == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_CASE("JSON: whitespace, escapes and unicode round-trip", "[progress][json]") {
    Json j = Json::parse(" \n\t{ \"a\" : [1, -2.5, 3e2, true, false, null] ,\r\n"
                         " \"s\": \"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9\\ud83d\\ude00\" , \"o\": {} }  ");
    REQUIRE(j.is_object());
    const Json* a = j.find("a");
    REQUIRE(a);
    REQUIRE(a->size() == 6);
    CHECK(a->items()[1].as_number() == -2.5);
    CHECK(a->items()[2].as_number() == 300);
    CHECK(a->items()[3].as_bool());
    CHECK(a->items()[5].is_null());
    CHECK(j.find("s")->as_string() == "q\"b\\s/n\nt\tu\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(j.find("o")->is_object());
    // What dump writes, parse reads back identically (pretty or compact).
    Json control = Json::object();
    control.set("ctl", std::string("a\x01" "b\x1f" "c\"d\\e"));
    control.set("big", 1.0e300);
    control.set("neg", -7);
    for (int indent : {0, 2}) {
        Json back = Json::parse(j.dump(indent));
        CHECK(back.dump() == j.dump());
        Json c2 = Json::parse(control.dump(indent));
        CHECK(c2.find("ctl")->as_string() == control.find("ctl")->as_string());
        CHECK(c2.find("big")->as_number() == 1.0e300);
        CHECK(c2.find("neg")->as_number() == -7);
    }
}

TEST_CASE("JSON: malformed text is an error naming the byte, never a crash", "[progress][json]") {
    for (const char* bad : {"", "{", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "\"\\x\"", "\"abc",
                            "tru", "01x", "{\"a\":1} extra", "\"\\ud800\"", "-", "1.", "[[[[",
                            "\"a\nb\""}) {
        INFO("text: " << bad);
        CHECK_THROWS_WITH(Json::parse(bad), Catch::Contains("JSON parse error at byte"));
    }
    std::string deep(100000, '[');
    CHECK_THROWS(Json::parse(deep));
}

TEST_CASE("FNV-1a 64 matches the published test vectors", "[progress][hash]") {
    CHECK(progress::fnv1a64("", 0) == 0xcbf29ce484222325ull);
    CHECK(progress::fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
    CHECK(progress::fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
    TempDir tmp;
    write_file(tmp.path / "f", "foobar");
    CHECK(progress::hash_file((tmp.path / "f").string()) == "85944171f73967e8");
    CHECK(progress::hash_file((tmp.path / "missing").string()).empty());
}

TEST_CASE("modes: isolated, integrated, reference, custom", "[progress]") {
    auto choice = [](const std::string& spec) { return tt::parse_impl_spec(spec); };
    CHECK(progress::classify(5, choice("reference,05=student")) == progress::Mode::isolated);
    CHECK(progress::classify(5, choice("student,06-09=reference")) == progress::Mode::integrated);
    CHECK(progress::classify(5, choice("student")) == progress::Mode::integrated);
    CHECK(progress::classify(5, choice("reference")) == progress::Mode::reference);
    CHECK(progress::classify(5, choice("reference,03=student")) == progress::Mode::custom);
    CHECK(progress::classify(1, choice("reference,01=student")) == progress::Mode::integrated);
    CHECK(progress::parse_mode("integrated") == progress::Mode::integrated);
    CHECK_FALSE(progress::parse_mode("whatever"));
}

namespace {

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

void fake_libraries(const fs::path& dir) {
    for (int m = 1; m <= 9; ++m)
        write_file(dir / ("tt_" + std::string(tt::module_info(m).dir) + "_student.so"),
                   "bytes of " + std::to_string(m));
}

}  // namespace

TEST_CASE("store: records survive a save/load round trip; saves are atomic", "[progress][store]") {
    TempDir tmp;
    fs::path libs = tmp.path / "lib";
    fake_libraries(libs);
    std::string path = (tmp.path / "sub" / "progress.json").string();  // directory created on demand

    progress::Store empty = progress::load(path);
    CHECK_FALSE(empty.find(9, progress::Mode::integrated));

    progress::GradeRecord r = passing_09(libs.string());
    REQUIRE(r.libraries.size() == 9);
    progress::record_grade(r, path);
    progress::GradeRecord iso = r;
    iso.module = 3;
    iso.mode = progress::Mode::isolated;
    iso.score = 2.5;
    iso.passed_all = false;
    iso.impl = "reference,03=student \"quoted\"";
    iso.libraries.resize(1);
    progress::record_grade(iso, path);

    progress::Store s = progress::load(path);
    auto back = s.find(9, progress::Mode::integrated);
    REQUIRE(back);
    CHECK(back->score == 30);
    CHECK(back->passed_all);
    CHECK(back->timestamp == r.timestamp);
    CHECK(back->time == r.time);
    REQUIRE(back->libraries.size() == 9);
    CHECK(back->libraries[4].module == 5);
    CHECK(back->libraries[4].hash == r.libraries[4].hash);
    auto b3 = s.find(3, progress::Mode::isolated);
    REQUIRE(b3);
    CHECK(b3->score == 2.5);
    CHECK(b3->impl == iso.impl);
    CHECK(s.records(9).size() == 1);

    // Only the store, its lock file and its key remain: no temporary files.
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
        std::string name = e.path().filename().string();
        CHECK((name == "progress.json" || name == "progress.json.lock" || name == "progress.json.key"));
    }
    // Unknown members written by someone else are kept.
    Json doc = Json::parse(read_file(path));
    doc.set("note", "kept");
    write_file(path, doc.dump());
    progress::record_grade(iso, path);
    CHECK(Json::parse(read_file(path)).string_or("note", "") == "kept");
}

TEST_CASE("store: a corrupt or wrongly shaped file is set aside, not lost", "[progress][store]") {
    for (const std::string& bad : {std::string("not json at all"), std::string(""),
                                   std::string("[1, 2, 3]"), std::string("{\"grades\": 7}"),
                                   std::string("{\"version\": 99, \"grades\": {}}")}) {
        INFO("content: " << bad);
        TempDir tmp;
        std::string path = (tmp.path / "progress.json").string();
        write_file(path, bad);
        progress::Store s = progress::load(path);
        CHECK_FALSE(s.find(9, progress::Mode::integrated));
        CHECK_FALSE(fs::exists(path));
        int aside = 0;
        for (const auto& e : fs::directory_iterator(tmp.path))
            if (e.path().filename().string().rfind("progress.json.corrupt-", 0) == 0) {
                ++aside;
                CHECK(read_file(e.path()) == bad);
            }
        CHECK(aside == 1);
    }
    // A malformed record is skipped; the others still count.
    TempDir tmp;
    std::string path = (tmp.path / "progress.json").string();
    write_file(path, R"({"version":1,"grades":{"02":{"isolated":{"score":"x"}},
                        "03":{"isolated":{"score":1,"max_score":2,"passed_all":false}}}})");
    progress::Store s = progress::load(path);
    CHECK_FALSE(s.find(2, progress::Mode::isolated));
    CHECK(s.find(3, progress::Mode::isolated));
    CHECK(fs::exists(path));
}

TEST_CASE("gate: reasons for every way it stays locked", "[progress][gate]") {
    TempDir tmp;
    fs::path libs = tmp.path / "lib";
    fake_libraries(libs);
    progress::Store store;
    store.path = (tmp.path / "progress.json").string();

    progress::GateStatus none = progress::gate_status(9, store, libs.string());
    CHECK_FALSE(none.unlocked);
    CHECK(none.fix_command == "./tito grade 09 --integrated");
    REQUIRE(none.reasons.size() == 1);
    CHECK(contains(none.reasons[0], "has not been graded"));

    // An isolated pass does not count.
    progress::GradeRecord r = passing_09(libs.string());
    progress::GradeRecord isolated = r;
    isolated.mode = progress::Mode::isolated;
    store.put(isolated);
    CHECK_FALSE(progress::gate_status(9, store, libs.string()).unlocked);

    store.put(r);
    progress::GateStatus open = progress::gate_status(9, store, libs.string());
    CHECK(open.unlocked);
    CHECK(open.reasons.empty());

    progress::GradeRecord partial = r;
    partial.passed_all = false;
    partial.score = 20;
    store.put(partial);
    progress::GateStatus p = progress::gate_status(9, store, libs.string());
    CHECK_FALSE(p.unlocked);
    CHECK(contains(p.reasons.at(0), "scored 20/30"));

    store.put(r);
    write_file(libs / "tt_05_autograd_student.so", "changed");
    fs::remove(libs / "tt_08_dataloader_student.so");
    progress::GateStatus stale = progress::gate_status(9, store, libs.string());
    CHECK_FALSE(stale.unlocked);
    REQUIRE(stale.reasons.size() == 2);
    CHECK(contains(stale.reasons[0], "module 05 (autograd)"));
    CHECK(contains(stale.reasons[0], "stale"));
    CHECK(contains(stale.reasons[1], "module 08 (dataloader)"));
    CHECK(contains(stale.reasons[1], "no longer exists"));

    // A grade that did not involve every student library (e.g. a custom mix).
    progress::GradeRecord missing = r;
    missing.libraries.erase(missing.libraries.begin());
    store.put(missing);
    write_file(libs / "tt_05_autograd_student.so", "bytes of 5");
    write_file(libs / "tt_08_dataloader_student.so", "bytes of 8");
    progress::GateStatus m = progress::gate_status(9, store, libs.string());
    CHECK_FALSE(m.unlocked);
    CHECK(contains(m.reasons.at(0), "did not record module 01"));
}
