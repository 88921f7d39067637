// Random HTML built from the pieces that make tokenizing and tree building
// hard: raw text elements with near-miss endings, every comment shape, odd
// attribute syntax, formatting elements, tables, foreign content, CR/NUL/
// invalid UTF-8 and character references. Deterministic for a seed.
// (No MathML <mi>: Gumbo 0.10.1 fails an assertion, and aborts, on
// "<table><math><mi><![CDATA[ ]]>", with or without the rewrite.)
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace tempmail::samples {

class HtmlGenerator {
 public:
  explicit HtmlGenerator(std::uint64_t seed) : rng_(seed) {}

  std::string document(int pieces) {
    std::string out;
    if (chance(4)) out += pick(kDoctypes);
    for (int i = 0; i < pieces; ++i) piece(out);
    if (chance(8)) out.resize(out.size() - std::min<std::size_t>(out.size(), below(12)));
    return out;
  }

 private:
  static constexpr std::array<std::string_view, 4> kDoctypes = {
      "<!DOCTYPE html>", "<!doctype html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"x>y\">",
      "<!DOCTYPE>", "\xEF\xBB\xBF<!DOCTYPE html>"};

  static constexpr std::array<std::string_view, 52> kTags = {
      "p",        "div",      "b",    "i",        "a",        "code",      "span",     "table",
      "tr",       "td",       "th",   "tbody",    "pre",      "listing",   "style",    "script",
      "textarea", "title",    "xmp",  "iframe",   "noembed",  "noframes",  "noscript", "select",
      "option",   "svg",      "math", "template", "frameset", "plaintext", "br",       "img",
      "head",     "body",     "html", "font",     "strong",   "h1",        "li",       "ul",
      "caption",  "colgroup", "col",  "form",     "input",    "isindex",   "nobr",     "center",
      "STYLE",    "Script",   "TD",   "h2"};

  static constexpr std::array<std::string_view, 12> kCss = {
      "display:none",
      "font-size:1px",
      "font-family:'Courier New',monospace;font-size:32px;letter-spacing:6px",
      "padding:12px;background-color:#eee;border:1px solid #ccc",
      "font-weight:bold",
      "visibility:hidden",
      "max-height:0;overflow:hidden;mso-hide:all",
      "color:transparent;line-height:0",
      "margin:0;text-align:center",
      "opacity:0",
      "font-size:12px;visibility:visible",
      ""};

  static constexpr std::array<std::string_view, 24> kAttrNames = {
      "style",   "style",       "style",
      "width",   "height",      "src",
      "align",   "class",       "id",
      "hidden",  "aria-hidden", "border",
      "bgcolor", "href",        "alt",
      "title",   "type",        "WIDTH",
      "Style",   "cellpadding", std::string_view("x\0y", 3),
      "\"q",     "<",           "="};

  static constexpr std::array<std::string_view, 26> kValues = {
      "https://x.test/?a=1&amp;b=2",
      "x&ampy",
      "&amp",
      "&AMP;",
      "a&amp;&amp;b",
      "/p?q=1&amp;",
      "preheader",
      "true",
      "0",
      "1",
      "hidden",
      "https://a.test/verify?token=Ab3dE9xQ7kLm2NpR",
      "a&amp;b",
      "x>y",
      "",
      "#fff",
      "5",
      "a\r\nb",
      "&#983040;",
      "\xF3\xB0\x80\x81",
      "a b",
      "courier",
      "+3",
      "7",
      "&quot;x",
      std::string_view("\0", 1)};

  static constexpr std::array<std::string_view, 44> kText = {
      "Your code is 482913",
      " ",
      "\n    ",
      "\r\n",
      "\t",
      "\f",
      "Hello world",
      "Verify your email",
      "  Order #12345678  ",
      "K7X9-PQ4M",
      "https://a.test/confirm?t=Zx81Kq0PlmN3rTy7",
      "&amp;",
      "&nbsp;",
      "&lt;b&gt;",
      "&#x20;",
      "&#8203;",
      "&copy",
      "&",
      "&#983040;",
      "\xC2\xA0",
      "\xE2\x80\x8B",
      "\xCD\x8F",
      "\xFF",
      "\xE2\x82",
      "\xC3\x28",
      std::string_view("\0", 1),
      "\x01",
      "\x7F",
      "\xC2\x80",
      "\xEF\xBF\xBE",
      "\xF3\xB0\x80\x80",
      "\xF4\x80\x80\x81",
      "<",
      "< b",
      "<3",
      "</>",
      "</ x>",
      "<?php x ?>",
      "<!x>",
      "<![CDATA[ y ]]>",
      "]]>",
      "a\rb",
      "\xE4\xBD\xA0\xE5\xA5\xBD",
      "x"};

  static constexpr std::array<std::string_view, 14> kComments = {
      "<!-->",
      "<!--->",
      "<!---->",
      "<!-- c -->",
      "<!-- c --!>",
      "<!-- a --!-> b -->",
      "<!--[if mso]><b>x</b><![endif]-->",
      "<!-- -- -->",
      "<!---x-->",
      "<!--x--->",
      "<!- x ->",
      "<!--",
      "<!-- unterminated",
      "<!-- a -- > b -->"};

  static constexpr std::array<std::string_view, 16> kRawEnds = {"</$>",
                                                                "</$ >",
                                                                "</$/",
                                                                "</$\n",
                                                                "</$s>",
                                                                "</$",
                                                                "</ $>",
                                                                "<</$>",
                                                                "</$\t x=\"<\">",
                                                                "</$\r\n>",
                                                                std::string_view("</$\0>", 5),
                                                                "</$x>",
                                                                "",
                                                                "</$>",
                                                                "</$>",
                                                                "</$>"};

  static constexpr std::array<std::string_view, 12> kRawBodies = {
      "p{color:red}",   "<b>x</b>", "<!--",           "<!--<script>a</script>b-->",
      "a <!-- b --> c", "</p>",     "x < y && y > z", "<style>",
      "\r\n",           "&amp;",    "</scrip",        "code 482913"};

  void piece(std::string& out) {
    switch (below(14)) {
      case 0:
      case 1:
      case 2:
        start_tag(out);
        break;
      case 3:
      case 4:
        out += "</";
        out += pick(kTags);
        if (chance(5)) out += " a=\">\"";
        out += '>';
        break;
      case 5:
      case 6:
      case 7:
      case 8:
        out += pick(kText);
        break;
      case 9:
        out += pick(kComments);
        break;
      case 10: {
        std::string_view tag = pick(std::array<std::string_view, 8>{
            "style", "script", "textarea", "title", "xmp", "iframe", "noembed", "STYLE"});
        out += '<';
        out += tag;
        if (chance(3)) out += " type=\"text/css\"";
        if (chance(6)) out += '/';
        out += '>';
        out += pick(kRawBodies);
        std::string_view end = pick(kRawEnds);
        for (char c : end) {
          if (c == '$') {
            out += chance(3) ? "Style" : std::string(tag);
          } else {
            out += c;
          }
        }
        break;
      }
      case 11:
        out += pick(std::array<std::string_view, 6>{
            "<a href=\"https://a.test/v?token=Q", "<a style=\"font-size:1px\" href=\"/x?a=1&amp;t=",
            "<A HREF='https://a.test/?k=", "<a target=_blank href=https://a.test/u?n=",
            "<b><a href=\"https://b.test/", "<a href=\"https://c.test/&amp;"});
        out += std::to_string(below(1000));
        out += chance(2) ? "\">" : "'>";
        out += pick(kText);
        if (chance(3))
          out += pick(std::array<std::string_view, 4>{"</a>", "</b>", "<table><td>", "</p>"});
        break;
      case 12:
        out += "<td style=\"";
        out += pick(kCss);
        out += "\">";
        out += std::to_string(100000 + below(900000));
        out += "</td>";
        break;
      default:
        out += "<table><tr><td>";
        out += pick(kText);
        break;
    }
  }

  void start_tag(std::string& out) {
    out += '<';
    out += pick(kTags);
    int attrs = static_cast<int>(below(4));
    for (int i = 0; i < attrs; ++i) {
      out += pick(std::array<std::string_view, 5>{" ", "  ", "\n", "/", "\r\n"});
      std::string_view name = pick(kAttrNames);
      out += name;
      if (chance(5)) continue;  // no value
      out += pick(std::array<std::string_view, 3>{"=", " = ", "="});
      std::string value = name == "style" || name == "Style" || chance(4)
                              ? std::string(pick(kCss))
                              : std::string(pick(kValues));
      switch (below(4)) {
        case 0:
          out += '"' + value + '"';
          break;
        case 1:
          out += '\'' + value + '\'';
          break;
        case 2:
          for (char& c : value)
            if (c == ' ' || c == '>' || c == '\n' || c == '\r') c = '_';
          out += value.empty() ? std::string("v") : value;
          break;
        default:
          out += '"' + value + '"';
          out += chance(3) ? "" : "x";  // a name right after the quote
          break;
      }
    }
    if (chance(6)) out += " /";
    out += '>';
  }

  bool chance(unsigned n) { return below(n) == 0; }
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  template <std::size_t N>
  std::string_view pick(const std::array<std::string_view, N>& a) {
    return a[below(N)];
  }

  std::mt19937_64 rng_;
};

}  // namespace tempmail::samples
