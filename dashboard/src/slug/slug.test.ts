import { describe, expect, it } from "vitest";
import { slugify, suggestSlug, transliterate } from "./slug";

describe("slugs for any script", () => {
  it("spells kana in romaji and drops accents", () => {
    expect(transliterate("とうきょう")).toBe("toukyou");
    expect(slugify("チーム")).toBe("chiimu");
    expect(slugify("Café Déjà Vu")).toBe("cafe-deja-vu");
    expect(slugify("Acme Robotics")).toBe("acme-robotics");
  });
  it("gives an all-kanji name a random suffix so a second one does not collide", () => {
    let n = 0;
    const rnd = () => `r${n++}`;
    expect(suggestSlug("雅 東京", "org", rnd)).toBe("org-r0");
    expect(suggestSlug("雅 東京", "org", rnd)).toBe("org-r1");
    expect(suggestSlug("雅 東京チーム", "team", rnd)).toBe("chiimu-r2");
    expect(suggestSlug("Acme Robotics", "org", rnd)).toBe("acme-robotics");
  });
  it("always answers what the API accepts", () => {
    for (const name of ["雅", "---", "Ünïcödé", "ｆｕｌｌｗｉｄｔｈ", "a".repeat(200), "きゃっと"]) {
      expect(suggestSlug(name, "org")).toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
    }
  });
});
