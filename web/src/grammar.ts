// Small wording helpers for generated labels ("an environment", "API tokens
// permissions"), so pages never build "a environment" or "api tokens".

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

/**
 * A label in the middle of a sentence: lower case, except words written in
 * capitals (acronyms such as "API"), which keep them. midSentence("API tokens")
 * is "API tokens"; midSentence("Secrets") is "secrets".
 */
export function midSentence(label: string): string {
  return label
    .split(/(\s+)/)
    .map((w) => (w.length > 1 && /[A-Z]/.test(w) && w === w.toUpperCase() ? w : w.toLowerCase()))
    .join("");
}

/**
 * A heading in sentence case: its first letter as written, the other words
 * as midSentence leaves them. sentenceCase("API Tokens") is "API tokens".
 */
export function sentenceCase(label: string): string {
  const lower = midSentence(label);
  const first = label.match(/^\s*\S+/)?.[0] ?? "";
  return first + lower.slice(first.length);
}

/** The plural of a scope level's name ("environment" → "environments"). */
export function plural(word: string): string {
  return /(s|x|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
}
