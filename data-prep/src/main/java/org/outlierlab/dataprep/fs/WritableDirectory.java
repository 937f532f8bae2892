package org.outlierlab.dataprep.fs;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A job's output directory checked before the job starts: made if need be, and a hidden file written in it and
 * removed, so that a read-only mount, missing permissions or a full quota stop the job at once, naming the key and
 * the directory, rather than after its work.
 */
public final class WritableDirectory {
  private WritableDirectory() {}

  /** The output directory {@code key} names cannot be written. */
  public static final class NotWritableException extends IOException {
    NotWritableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Fails unless {@code dir} can be written; the message starts with {@code what} (the key and its value). */
  public static void require(Path dir, String what, Configuration conf) throws NotWritableException {
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (!fs.mkdirs(dir) && !fs.getFileStatus(dir).isDirectory()) {
        throw new IOException("not a directory");
      }
      Path probe = new Path(dir, ".write-probe-" + UUID.randomUUID());
      fs.create(probe, false).close();
      fs.delete(probe, false);
    } catch (IOException e) {
      throw new NotWritableException(what + ": cannot write in " + dir + " (" + e.getMessage() + "); choose a"
          + " directory this job can write, or make it writable", e);
    }
  }
}
