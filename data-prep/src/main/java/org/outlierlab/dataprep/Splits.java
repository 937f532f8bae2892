package org.outlierlab.dataprep;

/** The split names and the deterministic hash that assigns a document to one. */
public final class Splits {
  public static final String TRAIN = "train";
  public static final String VALIDATION = "validation";

  private Splits() {}

  /** FNV-1a over UTF-16 code units; stable across JVMs and runs. */
  public static long update(long hash, CharSequence text) {
    long h = hash;
    for (int i = 0; i < text.length(); i++) {
      h ^= text.charAt(i);
      h *= 0x100000001B3L;
    }
    return h;
  }

  public static final long EMPTY_HASH = 0xCBF29CE484222325L;

  /** Validation when the seeded hash, mapped to [0, 1), falls below {@code validationFraction}. */
  public static String byHash(long contentHash, long seed, double validationFraction) {
    long z = contentHash ^ (seed * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    double u = (z >>> 11) * 0x1.0p-53;
    return u < validationFraction ? VALIDATION : TRAIN;
  }
}
