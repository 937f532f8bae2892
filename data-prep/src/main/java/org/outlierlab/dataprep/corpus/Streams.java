package org.outlierlab.dataprep.corpus;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Opening a file's bytes, gunzipping {@code *.gz}, and naming what went wrong as a bad-record reason. */
final class Streams {
  private Streams() {}

  static InputStream maybeGunzip(InputStream raw, String name) throws IOException {
    return name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
  }

  /** The bad-record reason for an I/O failure while reading a file. */
  static String reasonFor(IOException e) {
    if (e instanceof EOFException) {
      return BadRecord.TRUNCATED_GZIP;
    }
    if (e instanceof ZipException) {
      return BadRecord.CORRUPT_GZIP;
    }
    return BadRecord.UNREADABLE_FILE;
  }
}
