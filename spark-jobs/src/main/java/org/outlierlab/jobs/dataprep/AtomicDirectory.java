package org.outlierlab.jobs.dataprep;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A job's output directory that appears whole or not at all: everything is written to a hidden staging
 * directory beside the target, which is renamed into place on success (atomic on HDFS and local disks; on
 * object stores rename is a copy, so readers should also check for the manifest).
 */
public final class AtomicDirectory implements AutoCloseable {
  private final FileSystem fs;
  private final Path target;
  private final Path staging;
  private boolean published;

  /** Fails at once if {@code target} exists and {@code overwrite} is false. */
  AtomicDirectory(String target, boolean overwrite, Configuration conf) throws IOException {
    this.target = new Path(target);
    this.fs = this.target.getFileSystem(conf);
    if (fs.exists(this.target) && !overwrite) {
      throw new OutputExistsException("output " + this.target + " already exists; pass --overwrite to replace it");
    }
    this.staging = hiddenSibling("staging");
    fs.mkdirs(staging);
  }

  Path staging() {
    return staging;
  }

  /** Moves the staged directory to the target, replacing an existing target. */
  void publish() throws IOException {
    Path old = null;
    if (fs.exists(target)) {
      old = hiddenSibling("replaced");
      rename(target, old);
    }
    try {
      rename(staging, target);
    } catch (IOException e) {
      if (old != null) {
        rename(old, target);
      }
      throw e;
    }
    published = true;
    if (old != null) {
      fs.delete(old, true);
    }
  }

  /** Removes the staging directory unless it was published. */
  @Override
  public void close() throws IOException {
    if (!published) {
      fs.delete(staging, true);
    }
  }

  private Path hiddenSibling(String kind) {
    Path parent = target.getParent() != null ? target.getParent() : new Path(".");
    return new Path(parent, "." + target.getName() + "." + kind + "-" + UUID.randomUUID());
  }

  private void rename(Path from, Path to) throws IOException {
    if (to.getParent() != null) {
      fs.mkdirs(to.getParent());
    }
    if (!fs.rename(from, to)) {
      throw new IOException("could not rename " + from + " to " + to);
    }
  }

  /** The output exists and the user did not ask to replace it. */
  public static final class OutputExistsException extends IOException {
    OutputExistsException(String message) {
      super(message);
    }
  }
}
