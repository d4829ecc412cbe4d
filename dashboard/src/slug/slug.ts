// Slugs for names in any script: Latin letters lose their accents, kana are spelled in
// romaji, anything else (kanji, emoji) is dropped; a name that leaves nothing gets a short
// random suffix so a second all-Japanese name never collides with the first.
const kana: Record<string, string> = {};
(() => {
  const rows: [string, string[]][] = [
    ["", ["a", "i", "u", "e", "o"]],
    ["k", ["ka", "ki", "ku", "ke", "ko"]],
    ["s", ["sa", "shi", "su", "se", "so"]],
    ["t", ["ta", "chi", "tsu", "te", "to"]],
    ["n", ["na", "ni", "nu", "ne", "no"]],
    ["h", ["ha", "hi", "fu", "he", "ho"]],
    ["m", ["ma", "mi", "mu", "me", "mo"]],
    ["y", ["ya", "", "yu", "", "yo"]],
    ["r", ["ra", "ri", "ru", "re", "ro"]],
    ["w", ["wa", "", "", "", "wo"]],
  ];
  const hira = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもや　ゆ　よらりるれろわ　　　を";
  let i = 0;
  for (const [, sounds] of rows)
    for (const s of sounds) {
      const ch = hira[i++]!;
      if (s && ch !== "　") kana[ch] = s;
    }
  Object.assign(kana, {
    ん: "n", が: "ga", ぎ: "gi", ぐ: "gu", げ: "ge", ご: "go", ざ: "za", じ: "ji", ず: "zu", ぜ: "ze", ぞ: "zo",
    だ: "da", ぢ: "ji", づ: "zu", で: "de", ど: "do", ば: "ba", び: "bi", ぶ: "bu", べ: "be", ぼ: "bo",
    ぱ: "pa", ぴ: "pi", ぷ: "pu", ぺ: "pe", ぽ: "po", ゃ: "ya", ゅ: "yu", ょ: "yo", ぁ: "a", ぃ: "i", ぅ: "u", ぇ: "e", ぉ: "o",
  });
})();

function romaji(ch: string): string | undefined {
  const code = ch.charCodeAt(0);
  // Katakana are hiragana shifted by 0x60.
  const h = code >= 0x30a1 && code <= 0x30f6 ? String.fromCharCode(code - 0x60) : ch;
  return kana[h];
}

/** transliterate spells a name in ASCII where it can (small ya/yu/yo join: きょう → kyou). */
export function transliterate(name: string): string {
  const chars = [...name.normalize("NFKC")];
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "ー") {
      out += out.slice(-1).match(/[aeiou]/) ? out.slice(-1) : "";
      continue;
    }
    if (c === "っ" || c === "ッ") {
      const next = chars[i + 1] && romaji(chars[i + 1]!);
      out += next ? next[0] : "";
      continue;
    }
    const r = romaji(c);
    if (r !== undefined) {
      const small = chars[i + 1] && "ゃゅょャュョ".includes(chars[i + 1]!) ? romaji(chars[i + 1]!) : undefined;
      if (small && r.endsWith("i")) {
        out += r === "shi" || r === "chi" || r === "ji" ? r.slice(0, -1) + small.slice(1) : r.slice(0, -1) + small;
        i++;
        continue;
      }
      out += r;
      continue;
    }
    out += c.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    // Anything not ASCII (kanji) is a word break.
    out = out.replace(/[^\x00-\x7f]/g, " ");
  }
  return out;
}

export function slugify(name: string): string {
  return transliterate(name)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50)
    .replace(/-+$/, "");
}

/** suggestSlug: the slug a create form offers; a random suffix when the script dropped part of the name. */
export function suggestSlug(name: string, prefix: string, random: () => string = () => Math.random().toString(36).slice(2, 6)): string {
  const base = slugify(name);
  const lossy = /[^\x00-\x7f]/.test(name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")) && [...name].some((c) => romaji(c) === undefined && /[^\x00-\x7f]/.test(c) && c !== "ー" && c !== " " && c !== "　");
  if (!base) return `${prefix}-${random()}`;
  return lossy ? `${base}-${random()}` : base;
}
