package org.outlierlab.dataprep.corpus;

/** The reasons a record is counted as bad (the keys of the manifest's {@code bad_records}). */
public final class BadRecord {
  public static final String MALFORMED_JSON = "malformed_json";
  public static final String MISSING_FIELD = "missing_field";
  public static final String INVALID_UTF8 = "invalid_utf8";
  public static final String INVALID_UNICODE = "invalid_unicode";
  public static final String TRUNCATED_GZIP = "truncated_gzip";
  public static final String CORRUPT_GZIP = "corrupt_gzip";
  public static final String EMPTY_FILE = "empty_file";
  public static final String MISSING_FILE = "missing_file";
  public static final String UNREADABLE_FILE = "unreadable_file";

  private BadRecord() {}

  /** True when the text holds a lone UTF-16 surrogate (a JSON escape like \ud800 can produce one). */
  public static boolean hasLoneSurrogate(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return true;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}
