#!/usr/bin/env python3
"""Writes a corpus of realistic HTML emails, 5 to 200 KB, for the extraction benchmark.

The emails look like what transactional and marketing senders produce: nested layout
tables with inline CSS, a hidden preheader, a logo, a verification section (a one-time
code in a styled box and a "Verify" button whose URL carries a token), then as much
newsletter content (articles, product cards with prices and order numbers, images,
tracking links) as the target size needs, and a footer (unsubscribe, privacy, social,
address, tracking pixel). Deterministic: the same seed writes the same files.

  make_corpus.py OUT_DIR [--seed 7]

Writes OUT_DIR/<size>k_<n>.html and OUT_DIR/index.tsv (file, bytes, code, token).
"""
import argparse
import os
import random

SIZES_KB = [5, 10, 20, 50, 100, 150, 200]
PER_SIZE = 4

WORDS = ("account team order update shipping delivery product offer price member reward "
         "points weekly summary latest news feature release improvement security privacy "
         "settings profile customer support community event webinar guide tutorial tips "
         "season collection limited discount exclusive access early preview download mobile "
         "app desktop browser workspace project invoice receipt payment card renewal plan "
         "upgrade storage backup sync device location activity report analytics dashboard").split()

BRANDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Adatum"]


def sentence(rng, n=None):
    n = n or rng.randint(8, 22)
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "!", "?"])


def paragraph(rng, sentences=None):
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(2, 5)))


def token(rng, n=43):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(n))


def tracked(rng, brand, target):
    return (f"https://click.{brand.lower()}-mail.com/ls/click?upn={token(rng, 60)}"
            f"&amp;u={rng.randint(1000000, 9999999)}&amp;target={target}")


def article(rng, brand, i):
    img = f"https://cdn.{brand.lower()}.com/img/news/{rng.randint(1000, 9999)}_{i}.jpg"
    return f"""
<tr><td style="padding:24px 32px 8px 32px;font-family:Helvetica,Arial,sans-serif;">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
    <tr>
      <td width="180" valign="top" style="padding-right:16px;">
        <a href="{tracked(rng, brand, 'article')}"><img src="{img}" width="180" height="120" alt="{sentence(rng, 4)}" style="display:block;border:0;border-radius:6px;"></a>
      </td>
      <td valign="top" style="font-size:15px;line-height:22px;color:#333333;">
        <h2 style="margin:0 0 8px 0;font-size:19px;line-height:25px;color:#111111;font-weight:700;">{sentence(rng, 7)}</h2>
        <p style="margin:0 0 12px 0;">{paragraph(rng)}</p>
        <p style="margin:0;"><a href="{tracked(rng, brand, 'read-more')}" style="color:#0b5cd5;text-decoration:underline;">Read more &rarr;</a></p>
      </td>
    </tr>
  </table>
</td></tr>"""


def product_row(rng, brand):
    cells = []
    for _ in range(3):
        price = f"${rng.randint(9, 499)}.{rng.randint(0, 99):02d}"
        sku = f"SKU {rng.randint(100000, 999999)}"
        cells.append(f"""
      <td width="33%" valign="top" style="padding:8px;text-align:center;font-family:Helvetica,Arial,sans-serif;">
        <a href="{tracked(rng, brand, 'product')}"><img src="https://cdn.{brand.lower()}.com/p/{rng.randint(10000, 99999)}.png" width="160" height="160" alt="{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)}" style="display:block;margin:0 auto;border:0;"></a>
        <div style="font-size:14px;line-height:20px;color:#111111;padding-top:8px;font-weight:600;">{sentence(rng, 3)}</div>
        <div style="font-size:13px;color:#777777;">{sku}</div>
        <div style="font-size:16px;color:#c0392b;font-weight:700;padding-top:4px;">{price}</div>
      </td>""")
    return f"""
<tr><td style="padding:8px 24px;">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>{''.join(cells)}
  </tr></table>
</td></tr>"""


def order_table(rng):
    rows = []
    for _ in range(rng.randint(3, 8)):
        rows.append(f"""
    <tr><td style="padding:6px 0;border-bottom:1px solid #eeeeee;">{sentence(rng, 3)}</td>
        <td style="padding:6px 0;border-bottom:1px solid #eeeeee;text-align:right;">{rng.randint(1, 4)}</td>
        <td style="padding:6px 0;border-bottom:1px solid #eeeeee;text-align:right;">${rng.randint(5, 300)}.{rng.randint(0, 99):02d}</td></tr>""")
    return f"""
<tr><td style="padding:16px 32px;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#333333;">
  <p style="margin:0 0 8px 0;">Order #{rng.randint(10000000, 99999999)} placed on 2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}. Call us at +1 (555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}.</p>
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:14px;">{''.join(rows)}
  </table>
</td></tr>"""


def email(rng, target_bytes):
    brand = rng.choice(BRANDS)
    code = f"{rng.randint(0, 999999):06d}"
    tok = token(rng)
    verify = f"https://app.{brand.lower()}.com/account/verify?token={tok}&amp;uid={rng.randint(100000, 999999)}"
    head = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Verify your {brand} account</title>
<style type="text/css">
  body {{ margin:0; padding:0; -webkit-text-size-adjust:100%; background-color:#f4f4f7; }}
  table {{ border-collapse:collapse; mso-table-lspace:0pt; mso-table-rspace:0pt; }}
  img {{ border:0; outline:none; text-decoration:none; -ms-interpolation-mode:bicubic; }}
  .code {{ color:#1a73e8; letter-spacing:6px; }} /* #123456 is a colour, not a code */
  @media only screen and (max-width:620px) {{ .container {{ width:100% !important; }} .stack {{ display:block !important; width:100% !important; }} }}
</style>
<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
</head>
<body style="margin:0;padding:0;background-color:#f4f4f7;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;color:#f4f4f7;">Your code is inside. {paragraph(rng, 1)}&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f7;">
<tr><td align="center" style="padding:24px 0;">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="background-color:#ffffff;border-radius:8px;">
<tr><td style="padding:24px 32px;border-bottom:1px solid #eeeeee;">
  <a href="{tracked(rng, brand, 'logo')}"><img src="https://cdn.{brand.lower()}.com/brand/logo@2x.png" width="140" height="36" alt="{brand}" style="display:block;"></a>
</td></tr>
<tr><td style="padding:32px 32px 8px 32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#333333;">
  <h1 style="margin:0 0 16px 0;font-size:24px;line-height:30px;color:#111111;">Confirm your email address</h1>
  <p style="margin:0 0 16px 0;">Hi there, thanks for signing up for {brand}. To finish creating your account, enter this code in the app.</p>
  <p style="margin:0 0 8px 0;font-weight:700;">Your verification code:</p>
  <table role="presentation" cellpadding="0" cellspacing="0" border="0" align="center"><tr>
    <td style="background-color:#f1f5ff;border:1px solid #c9d8ff;border-radius:6px;padding:14px 28px;font-family:'Courier New',monospace;font-size:32px;font-weight:700;letter-spacing:8px;color:#1a1a1a;">{code}</td>
  </tr></table>
  <p style="margin:16px 0;">The code expires in 10 minutes. Or confirm with one click:</p>
  <table role="presentation" cellpadding="0" cellspacing="0" border="0" align="center"><tr>
    <td style="border-radius:6px;background-color:#1a73e8;"><a href="{verify}" style="display:inline-block;padding:14px 32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;font-weight:700;color:#ffffff;text-decoration:none;">Verify email</a></td>
  </tr></table>
  <p style="margin:16px 0 0 0;font-size:13px;color:#777777;">If the button does not work, paste this link into your browser: {verify}</p>
</td></tr>"""
    foot = f"""
<tr><td style="padding:24px 32px;background-color:#fafafa;border-top:1px solid #eeeeee;font-family:Helvetica,Arial,sans-serif;font-size:12px;line-height:18px;color:#999999;text-align:center;">
  <p style="margin:0 0 8px 0;">
    <a href="https://twitter.com/{brand.lower()}" style="color:#999999;">Twitter</a> &middot;
    <a href="https://www.facebook.com/{brand.lower()}" style="color:#999999;">Facebook</a> &middot;
    <a href="https://www.linkedin.com/company/{brand.lower()}" style="color:#999999;">LinkedIn</a>
  </p>
  <p style="margin:0 0 8px 0;">{brand} Inc., {rng.randint(100, 9999)} Market Street, Suite {rng.randint(100, 999)}, San Francisco, CA 94105</p>
  <p style="margin:0;"><a href="https://{brand.lower()}.com/privacy" style="color:#999999;">Privacy policy</a> &middot;
    <a href="https://{brand.lower()}.com/terms" style="color:#999999;">Terms</a> &middot;
    <a href="https://{brand.lower()}.com/help" style="color:#999999;">Help center</a> &middot;
    <a href="{tracked(rng, brand, 'unsubscribe')}" style="color:#999999;">Unsubscribe</a></p>
</td></tr>
</table>
</td></tr>
</table>
<img src="https://t.{brand.lower()}-mail.com/o/{token(rng, 32)}.gif" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">
</body>
</html>
"""
    body = []
    size = len(head) + len(foot)
    i = 0
    while size < target_bytes:
        kind = rng.random()
        if kind < 0.5:
            block = article(rng, brand, i)
        elif kind < 0.8:
            block = product_row(rng, brand)
        else:
            block = order_table(rng)
        if body and size + len(block) > target_bytes and size > target_bytes * 0.9:
            break
        body.append(block)
        size += len(block)
        i += 1
    return head + "".join(body) + foot, code, tok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    lines = []
    for kb in SIZES_KB:
        for n in range(PER_SIZE):
            html, code, tok = email(rng, kb * 1024)
            name = f"{kb:03d}k_{n}.html"
            with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
                f.write(html)
            lines.append(f"{name}\t{len(html.encode())}\t{code}\t{tok}\n")
    with open(os.path.join(args.out, "index.tsv"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    print(f"make_corpus: {len(lines)} emails in {args.out}")


if __name__ == "__main__":
    main()
