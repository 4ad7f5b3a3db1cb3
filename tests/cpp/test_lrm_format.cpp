// The .lrm format in C++ alone (graph/lrm.h), also run under ASan (.ci/asan)
// and under qemu-aarch64 (.ci/arm.sh):
//  - a graph with every attribute kind and an If whose branches capture an
//    outer input round-trips: the same attributes, the same outputs bit for
//    bit, and serialising the read graph gives the same bytes;
//  - every truncation of the file, and every byte flipped (with the
//    checksum left stale, and recomputed so that the parser sees the
//    corruption), is a loadrun::Error or a graph that reads -- never a crash
//    (ASan turns an out-of-bounds read into a failure);
//  - the header's error cases give the error kind promised.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/errors.h"
#include "expect.h"
#include "graph/lrm.h"
#include "runtime/network.h"

using namespace loadrun;

namespace {

Tensor floats(const Shape& s, std::initializer_list<float> v) {
  Tensor t(Layout(s, DType::Float32));
  size_t i = 0;
  for (float x : v) t.ptr<float>()[i++] = x;
  return t;
}

std::shared_ptr<Graph> branch(const std::string& op, bool with_const) {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {});
  if (with_const) {
    g->add_const("two", floats({}, {2.f}));
    g->add_opr(op, "", op, Attrs(), {"x", "two"}, {"b"});
  } else {
    g->add_opr(op, "", op, Attrs(), {"x"}, {"b"});
  }
  g->add_output("b");
  return g;
}

std::shared_ptr<Graph> model() {
  auto g = std::make_shared<Graph>();
  g->add_const("w", floats({3}, {0.5f, -1.f, 3.f}));
  g->add_input("cond", DType::Bool, {});
  g->add_input("x", DType::Float32, {-1});
  Attrs all;  // Identity ignores these: they are here to travel
  AttrValue v;
  // each value sets only its own field: the reader fills in no other
  v.kind = AttrValue::kInt, v.i = -(int64_t(1) << 40), all.set("i", v);
  v = AttrValue();
  v.kind = AttrValue::kFloat, v.f = 0.1, all.set("f", v);
  v = AttrValue();
  v.kind = AttrValue::kString, v.s = "caf\xc3\xa9", all.set("s", v);
  v = AttrValue();
  v.kind = AttrValue::kInts, v.ints = {1, -2, 3}, all.set("ints", v);
  v = AttrValue();
  v.kind = AttrValue::kFloats, v.floats = {1.5, -0.0, 1e300}, all.set("floats", v);
  v = AttrValue();
  v.kind = AttrValue::kStrings, v.strings = {"a", "", "bc"}, all.set("strings", v);
  v = AttrValue();
  v.kind = AttrValue::kTensor, v.t = floats({2, 1}, {7.f, 8.f}), all.set("t", v);
  v = AttrValue();
  v.kind = AttrValue::kGraph, v.g = branch("Neg", false), all.set("g", v);
  g->add_opr("Identity", "", "id", all, {"x"}, {"xi"});
  g->add_opr("Mul", "", "mul", Attrs(), {"xi", "w"}, {"xw"});
  Attrs iff;
  v = AttrValue();
  v.kind = AttrValue::kGraph, v.g = branch("Mul", true), iff.set("then_branch", v);
  v.g = branch("Neg", false), iff.set("else_branch", v);
  v = AttrValue();
  v.kind = AttrValue::kInt, v.i = 1, iff.set("_loadrun_captures", v);
  g->add_opr("If", "", "if", iff, {"cond", "xw"}, {"y"});
  g->add_output("y");
  g->add_output("xw");
  return g;
}

bool same_attr(const AttrValue& a, const AttrValue& b) {
  if (a.kind != b.kind || a.i != b.i || std::memcmp(&a.f, &b.f, 8) || a.s != b.s || a.ints != b.ints ||
      a.strings != b.strings || a.floats.size() != b.floats.size())
    return false;
  for (size_t k = 0; k < a.floats.size(); ++k)
    if (std::memcmp(&a.floats[k], &b.floats[k], 8)) return false;
  if (a.kind == AttrValue::kTensor)
    return a.t.layout().same_shape_dtype(b.t.layout()) && !std::memcmp(a.t.raw(), b.t.raw(), a.t.nbytes());
  if (a.kind == AttrValue::kGraph)
    return lrm_serialize(*a.g, {}) == lrm_serialize(*b.g, {});
  return true;
}

std::vector<Tensor> run(const std::shared_ptr<Graph>& g, bool c) {
  Tensor cond(Layout({}, DType::Bool));
  cond.ptr<bool>()[0] = c;
  Network net(g);
  return net.run({cond, floats({3}, {1.f, 2.f, -4.f})});
}

void test_round_trip() {
  auto g = model();
  LrmMeta meta = {{"k", "v"}, {"empty", ""}};
  std::string bytes = lrm_serialize(*g, meta);
  LrmModel m = lrm_parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.lrm");
  EXPECT(m.meta == meta);
  EXPECT(lrm_serialize(*m.graph, m.meta) == bytes);
  EXPECT(m.graph->vars().size() == g->vars().size());
  for (size_t i = 0; i < g->vars().size(); ++i) EXPECT(m.graph->vars()[i].name == g->vars()[i].name);
  const Attrs& a = g->oprs()[0]->attrs;
  const Attrs& b = m.graph->oprs()[0]->attrs;
  EXPECT(a.all().size() == b.all().size());
  for (const auto& kv : a.all()) EXPECT(b.has(kv.first) && same_attr(kv.second, b.all().at(kv.first)));
  for (bool c : {true, false}) {
    auto want = run(g, c), got = run(m.graph, c);
    EXPECT(want.size() == 2 && got.size() == 2);
    for (size_t k = 0; k < want.size() && k < got.size(); ++k)
      EXPECT(want[k].shape() == got[k].shape() &&
             !std::memcmp(want[k].raw(), got[k].raw(), want[k].nbytes()));
    // y = c ? 2 * x * w : -(x * w), x = {1, 2, -4}, w = {0.5, -1, 3}
    float y0 = got[0].ptr<float>()[2];
    EXPECT(y0 == (c ? -24.f : 12.f));
  }
}

uint64_t get_u64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(s[at + i])) << (8 * i);
  return v;
}

void fix_checksum(std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  uint64_t h = fnv1a64(p + kLrmHeaderSize, s.size() - kLrmHeaderSize, fnv1a64(p, 56));
  for (int i = 0; i < 8; ++i) s[56 + i] = char(h >> (8 * i));
}

// 0: parsed, 1: a loadrun error naming the file, 2: anything else.
int parse_outcome(const std::string& s) {
  try {
    // An exactly sized heap copy: ASan sees any read past the end.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[s.size() + 1]);
    std::memcpy(buf.get(), s.data(), s.size());
    lrm_parse(buf.get(), s.size(), "f.lrm");
    return 0;
  } catch (const Error& e) {
    return std::strncmp(e.what(), "f.lrm: ", 7) == 0 ? 1 : 2;
  } catch (...) {
    return 2;
  }
}

void test_corruption() {
  std::string good = lrm_serialize(*model(), {{"k", "v"}});
  EXPECT(parse_outcome(good) == 0);
  int parsed = 0, refused = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    if (parse_outcome(good.substr(0, n)) != 1) fail("truncate", std::to_string(n));
    ++g_cases;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t x : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      std::string bad = good;
      bad[i] = char(bad[i] ^ x);
      if (i < 56 || i >= 64) {  // the checksum itself: fixing it undoes the flip
        if (parse_outcome(bad) != 1) fail("flip, stale checksum", std::to_string(i));
      }
      fix_checksum(bad);
      int r = parse_outcome(bad);
      if (r == 2) fail("flip, fixed checksum", std::to_string(i) + " ^ " + std::to_string(x));
      (r == 0 ? parsed : refused)++;
      ++g_cases;
    }
  }
  std::printf("corruption: %d cases, %d read (a changed value), %d refused\n", g_cases, parsed, refused);
  EXPECT(refused > parsed);
}

void test_header_errors() {
  std::string good = lrm_serialize(*model(), {});
  auto kind = [](std::string s, bool fix) -> std::string {
    if (fix) fix_checksum(s);
    try {
      lrm_parse(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "h.lrm");
    } catch (const UnsupportedError&) {
      return "unsupported";
    } catch (const ModelError& e) {
      return std::string("model:") + e.what();
    }
    return "ok";
  };
  std::string v2 = good;
  v2[8] = 2;
  EXPECT(kind(v2, true) == "unsupported");
  std::string magic = good;
  magic[1] = 'X';
  EXPECT(kind(magic, true).find("magic") != std::string::npos);
  std::string sum = good;
  sum[sum.size() - 1] ^= 1;
  EXPECT(kind(sum, false).find("checksum") != std::string::npos);
  std::string op = good;
  size_t at = op.find("Identity");
  EXPECT(at != std::string::npos);
  op[at] = 'J';
  EXPECT(kind(op, true) == "unsupported");
  EXPECT(get_u64(good, 32) % kLrmAlign == 0);
}

}  // namespace

int main() {
  test_round_trip();
  test_header_errors();
  test_corruption();
  if (g_failures) {
    std::fprintf(stderr, "test_lrm_format: %d failures\n", g_failures);
    return 1;
  }
  std::printf("test_lrm_format: ok\n");
  return 0;
}
