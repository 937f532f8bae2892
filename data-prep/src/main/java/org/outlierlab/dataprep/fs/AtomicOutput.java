package org.outlierlab.dataprep.fs;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A file or directory that appears whole or not at all: written at a hidden path beside its target (a name that
 * starts with '.', which Spark and Parquet skip), then renamed into place by {@link #publish()}. Rename is atomic
 * on HDFS and local disks; on object stores it is a copy, so readers should also check for a manifest. A target
 * that exists is moved aside first, put back if the rename fails, and deleted once the new output is in place.
 */
public final class AtomicOutput implements AutoCloseable {
  private final FileSystem fs;
  private final Path target;
  private final Path staging;
  private boolean published;

  private AtomicOutput(FileSystem fs, Path target, Path staging) {
    this.fs = fs;
    this.target = target;
    this.staging = staging;
  }

  /**
   * A file to write at {@link #staging()}: {@code .<name>.<tag>.tmp} beside {@code target}. Writers that may run
   * at once for the same target (a retried Spark task) pass different tags.
   */
  public static AtomicOutput file(Path target, String tag, Configuration conf) throws IOException {
    return new AtomicOutput(target.getFileSystem(conf), target,
        new Path(parent(target), "." + target.getName() + "." + tag + ".tmp"));
  }

  /** A directory to fill at {@link #staging()}, made now; fails at once if {@code target} exists and {@code overwrite} is false. */
  public static AtomicOutput directory(Path target, boolean overwrite, Configuration conf) throws IOException {
    FileSystem fs = target.getFileSystem(conf);
    if (fs.exists(target) && !overwrite) {
      throw new OutputExistsException("output " + target + " already exists; pass --overwrite to replace it");
    }
    // qualified here, on the driver: Spark tasks fill the staging directory, and on a cluster each executor runs in
    // its own working directory, where a relative path names another place
    Path qualified = fs.makeQualified(target);
    AtomicOutput output = new AtomicOutput(fs, qualified, hiddenSibling(qualified, "staging"));
    fs.mkdirs(output.staging);
    return output;
  }

  /** Where to write the output until it is published. */
  public Path staging() {
    return staging;
  }

  /** Moves the staged output to the target, replacing an existing target. */
  public void publish() throws IOException {
    Path old = null;
    if (fs.exists(target)) {
      old = hiddenSibling(target, "replaced");
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

  /** Removes the staged output unless it was published. */
  @Override
  public void close() throws IOException {
    if (!published) {
      fs.delete(staging, true);
    }
  }

  private static Path parent(Path target) {
    return target.getParent() != null ? target.getParent() : new Path(".");
  }

  private static Path hiddenSibling(Path target, String kind) {
    return new Path(parent(target), "." + target.getName() + "." + kind + "-" + UUID.randomUUID());
  }

  private void rename(Path from, Path to) throws IOException {
    if (to.getParent() != null) {
      fs.mkdirs(to.getParent());
    }
    if (!fs.rename(from, to)) {
      throw new IOException("could not rename " + from + " to " + to);
    }
  }
}
