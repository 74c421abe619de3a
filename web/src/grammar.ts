// Small wording helpers for generated labels, so pages never build
// "a environment" or "environment" where "environments" is meant.

/** "a" or "an" for the word that follows, by its first sound (vowel letters; "one", "uni…", "user…" and "eu…" start with a consonant sound). */
export function article(word: string): "a" | "an" {
  const w = word.trim().toLowerCase();
  if (w === "") return "a";
  if (/^(one\b|once\b|uni|use|usu|eu)/.test(w)) return "a";
  if (/^(hour|honest|honou?r|heir)/.test(w)) return "an";
  // An acronym spoken letter by letter ("an API key", "an SDK", "a URL").
  const first = word.trim().split(/\s+/)[0];
  if (first.length > 1 && first === first.toUpperCase() && /^[A-Z]/.test(first)) {
    return "AEFHILMNORSX".includes(first[0]) ? "an" : "a";
  }
  return /^[aeiou]/.test(w) ? "an" : "a";
}

/** The word with its article: withArticle("environment") is "an environment". */
export function withArticle(word: string): string {
  return `${article(word)} ${word}`;
}

/** The plural of a scope level's name ("environment" → "environments"). */
export function plural(word: string): string {
  return /(s|x|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
}
