package org.outlierlab.model.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.outlierlab.dataprep.shard.TokenShards.Shard;

/**
 * One data-parallel worker's training batches, read shard by shard so that a split larger than memory can be
 * trained on (a shuffle buffer over shards, as streaming loaders do it, but with random access by step).
 *
 * <p>Each epoch is a stream of the split's rows: the shards in an order drawn from (seed, epoch), cut into windows
 * of consecutive shards holding at least {@code window} rows, each window's rows in an order drawn from (seed, epoch,
 * window). Global step k takes W·B consecutive rows of the stream (W workers, B rows each; worker w gets the w-th B
 * of them), so an epoch visits every row at most once, and a step that would straddle two epochs is taken whole
 * from the next. Batch k is a pure function of (seed, k) and the shards: a resumed run continues exactly, and one
 * worker sees exactly what a single process would. At most two windows are held in memory; {@code window = 0} makes
 * the whole split one window (a full shuffle).
 */
public final class ShardStream {
  /** Reads a shard's rows in file order. */
  public interface ShardReader {
    int[][] read(String path) throws IOException;
  }

  private final List<Shard> shards;
  private final int rowLength;
  private final int batchSize;
  private final int workers;
  private final int worker;
  private final long seed;
  private final long window;
  private final long rows;
  private final long batchesPerEpoch;
  private final ShardReader reader;
  /** The epoch whose layout {@link #layout} holds. */
  private long layoutEpoch = -1;
  private Layout layout;
  /** Loaded windows by (epoch, index), oldest first; at most two. */
  private final Map<List<Long>, int[][]> loaded = new LinkedHashMap<>();

  /** An epoch's shard order and where each window starts in the stream (one extra entry: the end). */
  private record Layout(int[] shardOrder, int[] firstShard, long[] start) {}

  /** The rows of the shards; fails unless they hold one step of every worker's batch. */
  public static long requireOneStep(List<Shard> shards, int batchSize, int workers) {
    long total = shards.stream().mapToLong(Shard::rows).sum();
    long perStep = (long) workers * batchSize;
    if (total < perStep) {
      throw new IllegalArgumentException("train.batch_size = " + batchSize + " on " + workers + " workers takes "
          + perStep + " training sequences a step; the split has " + total + ": lower train.batch_size or train.workers");
    }
    return total;
  }

  /**
   * @param rowLength the tokens every row must hold (sequence length + 1)
   * @param window rows per window at least (0: the whole split)
   */
  public ShardStream(List<Shard> shards, int rowLength, int batchSize, int workers, int worker, long seed, long window,
      ShardReader reader) {
    long total = requireOneStep(shards, batchSize, workers);
    if (worker < 0 || worker >= workers || window < 0) {
      throw new IllegalArgumentException("worker " + worker + " of " + workers + ", window " + window);
    }
    this.shards = List.copyOf(shards);
    this.rowLength = rowLength;
    this.batchSize = batchSize;
    this.workers = workers;
    this.worker = worker;
    this.seed = seed;
    this.window = window == 0 ? total : window;
    this.rows = total;
    this.batchesPerEpoch = total / ((long) workers * batchSize);
    this.reader = reader;
  }

  /** This worker's rows (each {@code rowLength} tokens) of global step {@code step}. */
  public int[][] batch(long step) {
    long epoch = step / batchesPerEpoch;
    long first = (step % batchesPerEpoch) * workers * batchSize + (long) worker * batchSize;
    Layout l = layout(epoch);
    int[][] out = new int[batchSize][];
    for (int i = 0; i < batchSize; i++) {
      long position = first + i;
      int w = Arrays.binarySearch(l.start(), position);
      w = w >= 0 ? w : -w - 2; // the window whose start is the last one at or before the position
      out[i] = window(epoch, w, l)[(int) (position - l.start()[w])];
    }
    return out;
  }

  /** Rows in all shards. */
  public long rows() {
    return rows;
  }

  /** Rows held in memory now. */
  long loadedRows() {
    return loaded.values().stream().mapToLong(rows -> rows.length).sum();
  }

  private Layout layout(long epoch) {
    if (epoch != layoutEpoch) {
      int[] order = permutation(shards.size(), new SplittableRandom(mix(seed, epoch, -1)));
      int[] firstShard = new int[shards.size() + 1];
      long[] start = new long[shards.size() + 1];
      int windows = 0;
      long position = 0;
      long inWindow = 0;
      for (int i = 0; i < order.length; i++) {
        if (i == 0 || inWindow >= window) {
          firstShard[windows] = i;
          start[windows++] = position;
          inWindow = 0;
        }
        inWindow += shards.get(order[i]).rows();
        position += shards.get(order[i]).rows();
      }
      firstShard[windows] = order.length;
      start[windows] = position;
      layout = new Layout(order, Arrays.copyOf(firstShard, windows + 1), Arrays.copyOf(start, windows + 1));
      layoutEpoch = epoch;
    }
    return layout;
  }

  /** Window w of the epoch, its rows in their drawn order; loaded on first use, evicting all but the newest other. */
  private int[][] window(long epoch, int w, Layout l) {
    List<Long> key = List.of(epoch, (long) w);
    int[][] rows = loaded.get(key);
    if (rows != null) {
      return rows;
    }
    rows = new int[(int) (l.start()[w + 1] - l.start()[w])][];
    int filled = 0;
    for (int i = l.firstShard()[w]; i < l.firstShard()[w + 1]; i++) {
      Shard shard = shards.get(l.shardOrder()[i]);
      int[][] shardRows;
      try {
        shardRows = reader.read(shard.path());
      } catch (IOException e) {
        throw new UncheckedIOException("reading training shard " + shard.path(), e);
      }
      if (shardRows.length != shard.rows()) {
        throw new IllegalStateException(shard.path() + " holds " + shardRows.length + " rows; its footer said "
            + shard.rows() + " (was it rewritten during training?)");
      }
      for (int[] row : shardRows) {
        TrainData.requireLength(row, rowLength, shard.path());
        rows[filled++] = row;
      }
    }
    int[] order = permutation(rows.length, new SplittableRandom(mix(seed, epoch, w)));
    int[][] shuffled = new int[rows.length][];
    for (int i = 0; i < order.length; i++) {
      shuffled[i] = rows[order[i]];
    }
    while (loaded.size() >= 2) {
      loaded.remove(loaded.keySet().iterator().next());
    }
    loaded.put(key, shuffled);
    return shuffled;
  }

  private static long mix(long seed, long epoch, long window) {
    return seed * 0x9E3779B97F4A7C15L ^ (epoch + 1) * 0xC2B2AE3D27D4EB4FL ^ (window + 2) * 0x165667B19E3779F9L;
  }

  /** A uniformly drawn permutation of 0..n-1 (Fisher-Yates). */
  static int[] permutation(int n, SplittableRandom random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
