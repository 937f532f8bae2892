package org.outlierlab.dataprep.fs;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.FileSystemException;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local disk under the scheme {@code faulty:}, failing as a real disk does, for tests of what a job does then:
 * {@link #readOnly} refuses every change as a read-only mount does ("Read-only file system"), and {@link #spaceLeft}
 * fails a write once that many more bytes have been written ("No space left on device"). Registered for Hadoop's
 * service loader; every test that sets a fault resets it with {@link #heal()}.
 */
public final class FaultyFileSystem extends RawLocalFileSystem {
  public static final String SCHEME = "faulty";
  public static volatile boolean readOnly;
  public static final AtomicLong spaceLeft = new AtomicLong(Long.MAX_VALUE);

  /** No faults. */
  public static void heal() {
    readOnly = false;
    spaceLeft.set(Long.MAX_VALUE);
  }

  /** {@code local} (an absolute path) under this file system. */
  public static String path(java.nio.file.Path local) {
    return SCHEME + "://" + local.toAbsolutePath();
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  private void refuseChanges(Path p) throws IOException {
    if (readOnly) {
      throw new FileSystemException(p.toUri().getPath(), null, "Read-only file system");
    }
  }

  @Override
  public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
      Progressable progress) throws IOException {
    refuseChanges(f);
    return limited(super.create(f, overwrite, bufferSize, replication, blockSize, progress));
  }

  @Override
  public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
      short replication, long blockSize, Progressable progress) throws IOException {
    refuseChanges(f);
    return limited(super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress));
  }

  @Override
  public FSDataOutputStream createNonRecursive(Path f, FsPermission permission, EnumSet<CreateFlag> flags,
      int bufferSize, short replication, long blockSize, Progressable progress) throws IOException {
    refuseChanges(f);
    return limited(super.createNonRecursive(f, permission, flags, bufferSize, replication, blockSize, progress));
  }

  @Override
  public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
    refuseChanges(f);
    return limited(super.append(f, bufferSize, progress));
  }

  @Override
  public boolean mkdirs(Path f) throws IOException {
    if (readOnly && !exists(f)) {
      refuseChanges(f);
    }
    return super.mkdirs(f);
  }

  @Override
  public boolean mkdirs(Path f, FsPermission permission) throws IOException {
    if (readOnly && !exists(f)) {
      refuseChanges(f);
    }
    return super.mkdirs(f, permission);
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    refuseChanges(src);
    return super.rename(src, dst);
  }

  @Override
  public boolean delete(Path p, boolean recursive) throws IOException {
    if (!exists(p)) {
      return false;
    }
    refuseChanges(p);
    return super.delete(p, recursive);
  }

  @Override
  public void setPermission(Path p, FsPermission permission) throws IOException {
    refuseChanges(p);
    super.setPermission(p, permission);
  }

  /** The stream, failing a write that would take more than the space left. */
  private FSDataOutputStream limited(FSDataOutputStream out) throws IOException {
    OutputStream counting = new FilterOutputStream(out) {
      @Override
      public void write(int b) throws IOException {
        take(1);
        out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        take(len);
        out.write(b, off, len);
      }
    };
    return new FSDataOutputStream(counting, null);
  }

  private static void take(long bytes) throws IOException {
    if (spaceLeft.addAndGet(-bytes) < 0) {
      spaceLeft.set(0);
      throw new IOException("No space left on device");
    }
  }
}
