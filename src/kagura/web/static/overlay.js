// The OBS browser source: character and subtitles on a transparent page. OBS plays audio
// without a click; nothing here asks the viewer for anything.

import { applyStrings } from "./i18n.js";
import { Performer } from "./performer.js";

applyStrings();
const performer = new Performer({
  stage: document.getElementById("stage"),
  subtitle: document.getElementById("subtitle"),
  question: document.getElementById("question"),
  defaultRole: "page", // an overlay only listens and acknowledges playback
});
performer.start();
