package org.outlierlab.model.run;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.outlierlab.dataprep.shard.ParquetFiles;
import org.outlierlab.model.graph.Site;

/**
 * Activation snapshots (SCIENCE.md §2.5): for the first {@code probe} sequences of a captured step's batch, one
 * row per (layer, site, token) with the token's activation vector. Sites: {@link #SITES}, and {@code attn_entropy}
 * (one row per layer, token_index -1, values = mean entropy per head).
 */
public final class Snapshots {
  /**
   * The kinds of site a snapshot can hold, each at every layer that has it: {@code resid_attn_in} (the residual
   * stream entering block {@code layer}), {@code norm_attn_out} (the normalised input of its attention, Pre-Norm
   * blocks only), {@code resid_mlp_in}, {@code norm_mlp_out} (the normalised input of its MLP), {@code mlp_preact}
   * (the MLP's pre-activation, blocks with α), {@code unembed_in} (layer = number of layers).
   */
  public static final java.util.List<String> SITES =
      java.util.List.of("resid_attn_in", "norm_attn_out", "resid_mlp_in", "norm_mlp_out", "mlp_preact", "unembed_in");

  static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
      message snapshot {
        required binary run_id (STRING);
        required int64 step;
        required int32 layer;
        required binary site (STRING);
        required int32 token_index;
        required group values (LIST) {
          repeated group list {
            required float element;
          }
        }
      }
      """);

  /** {@link #SCHEMA}'s columns as {@link #requireSchema} compares them. */
  private static final java.util.List<String> COLUMNS = columns(SCHEMA);

  private record Row(String runId, long step, int layer, String site, int tokenIndex, float[] values) {}

  private Snapshots() {}

  /** A file in a snapshots folder that is not a snapshot: another schema, or not Parquet at all. */
  public static final class NotASnapshotException extends IOException {
    NotASnapshotException(String message) {
      super(message);
    }
  }

  /**
   * Checks, from their footers, that every data file of the snapshots folders has the snapshot schema: Spark would
   * otherwise read a file of another schema with one file's columns, as nulls or an obscure error. The message
   * names the file and how to set it aside (a hidden name, which readers skip).
   */
  public static void requireSchema(java.util.List<String> dirs, Configuration conf) throws IOException {
    for (String dir : dirs) {
      Path folder = new Path(dir);
      org.apache.hadoop.fs.FileSystem fs = folder.getFileSystem(conf);
      for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(folder,
          p -> !p.getName().startsWith(".") && !p.getName().startsWith("_"))) {
        MessageType schema;
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
            org.apache.parquet.hadoop.util.HadoopInputFile.fromStatus(f, conf))) {
          schema = reader.getFileMetaData().getSchema();
        } catch (IOException | RuntimeException e) {
          throw notASnapshot(f.getPath(), "it is not a readable Parquet file (" + e.getMessage() + ")");
        }
        if (!columns(schema).equals(COLUMNS)) {
          throw notASnapshot(f.getPath(), "its columns are " + columns(schema) + ", a snapshot's are " + COLUMNS
              + " (written by another tool or version?)");
        }
      }
    }
  }

  private static NotASnapshotException notASnapshot(Path file, String why) {
    Path aside = new Path(file.getParent(), "." + file.getName() + ".not-a-snapshot");
    return new NotASnapshotException("snapshot file " + file + " is not a snapshot: " + why + "; set it aside with"
        + " mv " + file.toUri().getPath() + " " + aside.toUri().getPath() + " (or hadoop fs -mv), then run again");
  }

  /** Each column as its path and type. */
  private static java.util.List<String> columns(MessageType schema) {
    return schema.getColumns().stream()
        .map(c -> String.join(".", c.getPath()) + " " + c.getPrimitiveType().getPrimitiveTypeName().name().toLowerCase(
            java.util.Locale.ROOT))
        .toList();
  }

  /** Writes {@code <dir>/step-<step>.parquet} atomically from the activations captured at {@code step}. */
  public static void write(String runId, long step, Map<String, INDArray> activations, int probe, int nLayers,
      Path dir, Configuration conf) throws IOException {
    Path target = new Path(dir, String.format("step-%012d.parquet", step));
    try (ParquetFiles.AtomicFile<Row> file = ParquetFiles.create(target, "w", conf, SCHEMA, Snapshots::emit,
        "values.list.element")) {
      for (Map.Entry<String, INDArray> e : activations.entrySet()) {
        String site = Site.kind(e.getKey());
        int layer = Site.layer(e.getKey(), nLayers);
        INDArray a = e.getValue();
        if (site.equals("attn_probs")) {
          file.write(new Row(runId, step, layer, "attn_entropy", -1, entropyPerHead(a, probe)));
        } else {
          writeTokens(file, runId, step, layer, site, a, probe);
        }
      }
      file.commit();
    }
  }

  private static void writeTokens(ParquetFiles.AtomicFile<Row> file, String runId, long step, int layer, String site,
      INDArray a, int probe) throws IOException {
    float[][] rows = probeRows(a, probe);
    for (int i = 0; i < rows.length; i++) {
      file.write(new Row(runId, step, layer, site, i, rows[i]));
    }
  }

  /**
   * The token rows a snapshot holds of a (batch, T, d) activation: those of its first {@code probe} sequences, row
   * token_index = sequence·T + position.
   */
  public static float[][] probeRows(INDArray a, int probe) {
    int b = (int) Math.min(probe, a.size(0));
    int n = b * (int) a.size(1);
    int d = (int) a.size(2);
    // one bulk copy out of ND4J: toFloatMatrix reads element by element, several times slower
    float[] flat = a.get(NDArrayIndex.interval(0, b), NDArrayIndex.all(), NDArrayIndex.all())
        .castTo(DataType.FLOAT).reshape((long) n * d).toFloatVector();
    float[][] rows = new float[n][];
    for (int i = 0; i < n; i++) {
      rows[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
    }
    return rows;
  }

  /** Mean over probe sequences and queries of −Σ p log p, per head (0·log 0 = 0). */
  static float[] entropyPerHead(INDArray probs, int probe) {
    int b = (int) Math.min(probe, probs.size(0));
    int heads = (int) probs.size(1);
    int t = (int) probs.size(2);
    float[] out = new float[heads];
    for (int h = 0; h < heads; h++) {
      double sum = 0;
      for (int i = 0; i < b; i++) {
        float[][] p = probs.get(NDArrayIndex.point(i), NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all())
            .toFloatMatrix();
        for (float[] row : p) {
          for (float v : row) {
            if (v > 0) {
              sum -= v * Math.log(v);
            }
          }
        }
      }
      out[h] = (float) (sum / ((double) b * t));
    }
    return out;
  }

  private static void emit(RecordConsumer c, Row r) {
    ParquetFiles.addString(c, 0, "run_id", r.runId());
    ParquetFiles.addLong(c, 1, "step", r.step());
    ParquetFiles.addInt(c, 2, "layer", r.layer());
    ParquetFiles.addString(c, 3, "site", r.site());
    ParquetFiles.addInt(c, 4, "token_index", r.tokenIndex());
    ParquetFiles.addList(c, 5, "values", r.values().length, i -> c.addFloat(r.values()[i]));
  }
}
