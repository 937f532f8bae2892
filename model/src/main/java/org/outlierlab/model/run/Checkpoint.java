package org.outlierlab.model.run;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Everything needed to continue a run exactly: the step about to run, parameters, optimiser state and the
 * trainer's own position (data order, seeds) as strings. One self-describing binary file per checkpoint.
 */
public record Checkpoint(long step, Map<String, INDArray> params, Map<String, INDArray> optimizerState,
    Map<String, String> extras) {
  private static final int MAGIC = 0x0F1AB0C1;
  private static final int VERSION = 1;
  private static final String PREFIX = "checkpoint-";

  public void write(OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(new BufferedOutputStream(out));
    data.writeInt(MAGIC);
    data.writeInt(VERSION);
    data.writeLong(step);
    writeStrings(data, extras);
    writeArrays(data, params);
    writeArrays(data, optimizerState);
    data.flush();
  }

  public static Checkpoint read(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(new BufferedInputStream(in));
    if (data.readInt() != MAGIC) {
      throw new IOException("not an Outlier Lab checkpoint");
    }
    int version = data.readInt();
    if (version != VERSION) {
      throw new IOException("checkpoint version " + version + " is not supported; this build reads " + VERSION);
    }
    long step = data.readLong();
    Map<String, String> extras = readStrings(data);
    return new Checkpoint(step, readArrays(data), readArrays(data), extras);
  }

  /**
   * Writes {@code checkpoint-<step>} in {@code dir} atomically: to a hidden file first, then renamed, so a
   * crash mid-write never leaves a file that looks complete.
   */
  public Path saveTo(Path dir, Configuration conf) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    fs.mkdirs(dir);
    Path target = new Path(dir, String.format("%s%012d.bin", PREFIX, step));
    Path tmp = new Path(dir, "." + target.getName() + ".tmp");
    try (OutputStream out = fs.create(tmp, true)) {
      write(out);
    }
    fs.delete(target, false);
    if (!fs.rename(tmp, target)) {
      throw new IOException("could not rename " + tmp + " to " + target);
    }
    return target;
  }

  /** The checkpoint files in {@code dir} by step (none if it does not exist). */
  public static java.util.SortedMap<Long, Path> files(Path dir, Configuration conf) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    java.util.SortedMap<Long, Path> files = new java.util.TreeMap<>();
    if (fs.exists(dir)) {
      for (FileStatus f : fs.listStatus(dir, p -> p.getName().matches(PREFIX + "\\d+\\.bin"))) {
        String name = f.getPath().getName();
        files.put(Long.parseLong(name.substring(PREFIX.length(), name.length() - ".bin".length())), f.getPath());
      }
    }
    return files;
  }

  /** The checkpoint in {@code file}. */
  public static Checkpoint read(Path file, Configuration conf) throws IOException {
    try (InputStream in = file.getFileSystem(conf).open(file)) {
      return read(in);
    }
  }

  /** The checkpoint with the highest step in {@code dir}, if any. */
  public static Optional<Checkpoint> latest(Path dir, Configuration conf) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    if (!fs.exists(dir)) {
      return Optional.empty();
    }
    Optional<Path> newest = java.util.Arrays.stream(fs.listStatus(dir, p -> p.getName().startsWith(PREFIX)))
        .map(FileStatus::getPath).max(java.util.Comparator.comparing(Path::getName));
    if (newest.isEmpty()) {
      return Optional.empty();
    }
    try (InputStream in = fs.open(newest.get())) {
      return Optional.of(read(in));
    }
  }

  private static void writeStrings(DataOutputStream out, Map<String, String> map) throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
      out.writeUTF(e.getKey());
      out.writeUTF(e.getValue());
    }
  }

  private static Map<String, String> readStrings(DataInputStream in) throws IOException {
    Map<String, String> map = new LinkedHashMap<>();
    for (int n = in.readInt(); n > 0; n--) {
      map.put(in.readUTF(), in.readUTF());
    }
    return map;
  }

  private static void writeArrays(DataOutputStream out, Map<String, INDArray> arrays) throws IOException {
    out.writeInt(arrays.size());
    for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
      out.writeUTF(e.getKey());
      Nd4j.write(e.getValue(), out);
    }
  }

  private static Map<String, INDArray> readArrays(DataInputStream in) throws IOException {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    for (int n = in.readInt(); n > 0; n--) {
      arrays.put(in.readUTF(), Nd4j.read(in));
    }
    return arrays;
  }
}
