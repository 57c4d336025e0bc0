// Debrief page: crop each moment's thumbnail out of its storyboard sprite, and print on demand.
// The Content-Security-Policy forbids style attributes in the markup, so the crop is set here
// through the CSSOM from the tile's data-attributes (sprite URL and x, y, w, h in pixels).

const sheets = new Map();

// Load each sprite once and learn its size: the crop is expressed in percentages of it, so the
// thumbnail scales to whatever width the screen or the printed page gives it.
function spriteSize(url) {
  if (!sheets.has(url)) {
    sheets.set(url, new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => resolve({ width: image.naturalWidth, height: image.naturalHeight });
      image.onerror = () => reject(new Error(`could not load ${url}`));
      image.src = url;
    }));
  }
  return sheets.get(url);
}

function percent(offset, tile, sheet) {
  // background-position p% lines up p% of the image with p% of the box: solve for the tile.
  return sheet > tile ? (offset / (sheet - tile)) * 100 : 0;
}

async function crop(thumb) {
  const { sprite } = thumb.dataset;
  const [x, y, w, h] = ["x", "y", "w", "h"].map((key) => Number(thumb.dataset[key]));
  try {
    const sheet = await spriteSize(sprite);
    thumb.style.aspectRatio = `${w} / ${h}`;
    thumb.style.backgroundImage = `url("${sprite}")`;
    thumb.style.backgroundSize = `${(sheet.width / w) * 100}% ${(sheet.height / h) * 100}%`;
    thumb.style.backgroundPosition = `${percent(x, w, sheet.width)}% ${percent(y, h, sheet.height)}%`;
    thumb.dataset.state = "ready";
  } catch {
    thumb.dataset.state = "failed";
  }
}

function start() {
  const thumbs = [...document.querySelectorAll(".moment-thumb[data-sprite]")];
  const ready = Promise.all(thumbs.map(crop));
  document.querySelectorAll('[data-action="print"]').forEach((button) => {
    // Wait for the crops so a quick click never prints empty frames.
    button.addEventListener("click", () => ready.then(() => window.print()));
  });
  ready.then(() => { document.body.dataset.thumbnails = "ready"; });
}

start();
