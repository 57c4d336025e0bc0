// The lesson page: the player, its review tools and live processing (lib/lesson.js).
import { mountLesson } from "../lib/lesson.js";

mountLesson();
